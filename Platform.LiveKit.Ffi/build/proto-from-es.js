// Writes LiveKit's FFI protobuf schema as a .proto file from the protobuf-es descriptors shipped in the npm
// package @livekit/rtc-ffi-bindings (proto/*_pb.js). Run by the build (Platform.LiveKit.Ffi.csproj) before
// Grpc.Tools compiles it; the output lives in obj/ and is never committed.
//   node proto-from-es.js <bindings-folder> <output.proto> <csharp-namespace>
// The _pb.js files call proto2.makeEnum / makeMessageType from @bufbuild/protobuf; instead of installing that
// runtime, this script answers `require("@bufbuild/protobuf")` with a recorder that keeps every descriptor.
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

const [bindings, output, csharpNamespace] = process.argv.slice(2);
if (!bindings || !output || !csharpNamespace) {
  console.error("usage: node proto-from-es.js <bindings-folder> <output.proto> <csharp-namespace>");
  process.exit(2);
}

const messages = []; // { typeName, fieldsFn }
const enums = [];    // { typeName, values }
const recorder = {
  proto2: {
    makeMessageType(typeName, fieldsFn) {
      const m = { kind: "message", typeName, fieldsFn };
      messages.push(m);
      return m;
    },
    makeEnum(typeName, values) {
      const e = { kind: "enum", typeName, values };
      enums.push(e);
      return e;
    },
    getEnumType(e) {
      return e;
    },
  },
};
const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "@bufbuild/protobuf") return recorder;
  return originalLoad.call(this, request, parent, isMain);
};

const protoDir = path.join(bindings, "proto");
const files = fs.readdirSync(protoDir).filter((f) => f.endsWith("_pb.js")).sort();
if (files.length === 0) {
  console.error(`no *_pb.js in ${protoDir}`);
  process.exit(1);
}
for (const f of files) require(path.resolve(protoDir, f));

const pkg = "livekit.proto";
const scalar = {
  1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
  9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
};
const scalarName = (t) => {
  const n = scalar[t];
  if (!n) throw new Error(`unknown scalar type ${t}`);
  return n;
};
const local = (typeName) => {
  if (!typeName.startsWith(pkg + ".")) throw new Error(`type outside ${pkg}: ${typeName}`);
  return typeName.slice(pkg.length + 1);
};
const typeRef = (t) => "." + t.typeName; // fully qualified: no scoping surprises

// Build the nesting tree: "A.B" nests in message "A".
const byName = new Map();
for (const d of [...messages, ...enums]) byName.set(local(d.typeName), { d, children: [] });
const roots = [];
for (const [name, node] of byName) {
  const dot = name.lastIndexOf(".");
  if (dot < 0) roots.push(node);
  else {
    const parent = byName.get(name.slice(0, dot));
    if (!parent) throw new Error(`no parent for ${name}`);
    parent.children.push(node);
  }
}

const out = [];
const w = (indent, line) => out.push("  ".repeat(indent) + line);

function fieldType(f) {
  switch (f.kind) {
    case "scalar": return scalarName(f.T);
    case "enum": return typeRef(f.T);
    case "message": return typeRef(f.T);
    default: throw new Error(`unexpected field kind ${f.kind}`);
  }
}

function emit(node, indent) {
  const d = node.d;
  const short = local(d.typeName).split(".").pop();
  if (d.kind === "enum") {
    w(indent, `enum ${short} {`);
    for (const v of d.values) w(indent + 1, `${v.name} = ${v.no};`);
    w(indent, "}");
    return;
  }
  w(indent, `message ${short} {`);
  for (const child of node.children) emit(child, indent + 1);
  const fields = typeof d.fieldsFn === "function" ? d.fieldsFn() : d.fieldsFn;
  const oneofsDone = new Set();
  for (const f of fields) {
    if (f.oneof) {
      if (oneofsDone.has(f.oneof)) continue;
      oneofsDone.add(f.oneof);
      w(indent + 1, `oneof ${f.oneof} {`);
      for (const g of fields.filter((x) => x.oneof === f.oneof)) w(indent + 2, `${fieldType(g)} ${g.name} = ${g.no};`);
      w(indent + 1, "}");
      continue;
    }
    if (f.kind === "map") {
      const v = f.V.kind === "scalar" ? scalarName(f.V.T) : typeRef(f.V.T);
      w(indent + 1, `map<${scalarName(f.K)}, ${v}> ${f.name} = ${f.no};`);
      continue;
    }
    // `required` is written as `optional`: the wire format is the same, and parsing stays lenient where the
    // library and the schema package differ by a few releases.
    const label = f.repeated ? "repeated" : "optional";
    const packed = f.repeated && f.packed ? " [packed = true]" : "";
    w(indent + 1, `${label} ${fieldType(f)} ${f.name} = ${f.no}${packed};`);
  }
  w(indent, "}");
}

out.push("// Generated at build time from @livekit/rtc-ffi-bindings (Apache-2.0) by build/proto-from-es.js.");
out.push("// Do not edit or commit.");
out.push('syntax = "proto2";');
out.push(`package ${pkg};`);
out.push(`option csharp_namespace = "${csharpNamespace}";`);
out.push("");
for (const r of roots.sort((a, b) => local(a.d.typeName).localeCompare(local(b.d.typeName)))) emit(r, 0);

fs.mkdirSync(path.dirname(output), { recursive: true });
const text = out.join("\n") + "\n";
if (!fs.existsSync(output) || fs.readFileSync(output, "utf8") !== text) fs.writeFileSync(output, text);
console.log(`proto-from-es: ${messages.length} messages, ${enums.length} enums -> ${output}`);
