// Drives LiveKit's official node server SDK (livekit-server-sdk) for the C# tests: one process per test class,
// one JSON request per stdin line, one JSON answer per stdout line ({id, ok, result} or {id, ok:false, error}).
// LIVEKIT_SDK_DIR is the npm prefix that holds node_modules/livekit-server-sdk.
'use strict';
const path = require('node:path');
const crypto = require('node:crypto');
const readline = require('node:readline');

const sdkDir = process.env.LIVEKIT_SDK_DIR;
if (!sdkDir) throw new Error('LIVEKIT_SDK_DIR is not set');
const sdk = require(path.join(sdkDir, 'node_modules', 'livekit-server-sdk'));
const { AccessToken, TokenVerifier, WebhookReceiver, RoomServiceClient, TrackSource, DataPacket_Kind } = sdk;

const sourceByName = {
  camera: TrackSource.CAMERA,
  microphone: TrackSource.MICROPHONE,
  screen_share: TrackSource.SCREEN_SHARE,
  screen_share_audio: TrackSource.SCREEN_SHARE_AUDIO,
};
// Proto-named JSON with defaults, the form the C# tests compare against.
const protoJson = (m) => m.toJson({ useProtoFieldName: true, emitDefaultValues: true });

async function mint(a) {
  const at = new AccessToken(a.apiKey, a.secret, {
    identity: a.identity, name: a.name, ttl: a.ttlSeconds, metadata: a.metadata, attributes: a.attributes,
  });
  if (a.kind) at.kind = a.kind;
  if (a.sha256) at.sha256 = a.sha256;
  if (a.video) {
    const grant = { ...a.video };
    if (grant.canPublishSources) grant.canPublishSources = grant.canPublishSources.map((s) => sourceByName[s]);
    at.addGrant(grant);
  }
  return at.toJwt();
}

const ops = {
  // TokenVerifier.verify: the payload, or an error.
  async verify(a) {
    return new TokenVerifier(a.apiKey, a.secret).verify(a.token);
  },
  mint,
  // Signs a webhook body as the LiveKit server does: a token from the API key whose sha256 claim is the padded
  // standard base64 SHA-256 of the raw body.
  async signWebhook(a) {
    const sha256 = crypto.createHash('sha256').update(Buffer.from(a.body, 'utf8')).digest('base64');
    return mint({ apiKey: a.apiKey, secret: a.secret, ttlSeconds: a.ttlSeconds ?? 300, sha256 });
  },
  // The SDK's own receiver: the parsed event as proto-named JSON.
  async receiveWebhook(a) {
    const ev = await new WebhookReceiver(a.apiKey, a.secret).receive(a.body, a.auth);
    return protoJson(ev);
  },
  // One RoomServiceClient call against a.url; the parsed answer as proto-named JSON.
  async room(a) {
    const client = new RoomServiceClient(a.url, a.apiKey, a.secret, { requestTimeout: 10, failover: false });
    const x = a.args;
    switch (a.method) {
      case 'CreateRoom':
        return protoJson(await client.createRoom(x));
      case 'DeleteRoom':
        await client.deleteRoom(x.room);
        return null;
      case 'ListRooms':
        return (await client.listRooms(x.names)).map(protoJson);
      case 'ListParticipants':
        return (await client.listParticipants(x.room)).map(protoJson);
      case 'RemoveParticipant':
        await client.removeParticipant(x.room, x.identity);
        return null;
      case 'SendData':
        await client.sendData(x.room, Buffer.from(x.dataBase64, 'base64'),
          x.kind === 'LOSSY' ? DataPacket_Kind.LOSSY : DataPacket_Kind.RELIABLE,
          { destinationIdentities: x.destinationIdentities, topic: x.topic });
        return null;
      case 'UpdateRoomMetadata':
        return protoJson(await client.updateRoomMetadata(x.room, x.metadata));
      default:
        throw new Error(`unknown method ${a.method}`);
    }
  },
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let id = null;
  try {
    const req = JSON.parse(line);
    id = req.id;
    const op = ops[req.op];
    if (!op) throw new Error(`unknown op ${req.op}`);
    const result = await op(req.args);
    process.stdout.write(JSON.stringify({ id, ok: true, result: result ?? null }) + '\n');
  } catch (e) {
    const error = { name: e?.name, message: String(e?.message ?? e), status: e?.status, code: e?.code ?? null };
    process.stdout.write(JSON.stringify({ id, ok: false, error }) + '\n');
  }
});
rl.on('close', () => process.exit(0));
