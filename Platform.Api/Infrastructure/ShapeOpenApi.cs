using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Platform.Contracts.Json;

namespace Platform.Api.Infrastructure;

/// <summary>Endpoint metadata: the shape its JSON body must have (validated by <see cref="JsonBody"/>).</summary>
public sealed record BodyShape(Shape Shape, string ContentType = "application/json");

public static class ShapeOpenApi
{
    /// <summary>Declares the body shape of an endpoint, so the OpenAPI document describes it exactly.</summary>
    public static RouteHandlerBuilder Body(this RouteHandlerBuilder builder, Shape shape, string contentType = "application/json") =>
        builder.WithMetadata(new BodyShape(shape, contentType));

    /// <summary>Writes request bodies from the shapes (the same ones that validate requests) into the OpenAPI document.</summary>
    public static OpenApiOptions AddShapeBodies(this OpenApiOptions options)
    {
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<BodyShape>().FirstOrDefault() is { } body)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType> { [body.ContentType] = new() { Schema = ToSchema(body.Shape) } },
                };
            }
            return Task.CompletedTask;
        });
        return options;
    }

    public static OpenApiSchema ToSchema(Shape shape)
    {
        switch (shape)
        {
            case StringShape s:
                var schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = s.MaxLength };
                if (s.OneOf is { } values)
                {
                    schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!)];
                }
                if (s.Rule == UrlRule.Check)
                {
                    schema.Format = "uri";
                }
                return schema;
            case BoolShape:
                return new OpenApiSchema { Type = JsonSchemaType.Boolean };
            case IntShape i:
                return new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = i.Min.ToString(System.Globalization.CultureInfo.InvariantCulture), Maximum = i.Max.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            case NumberShape n:
                return new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = n.Min.ToString(System.Globalization.CultureInfo.InvariantCulture), Maximum = n.Max.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            case ArrayShape a:
                return new OpenApiSchema { Type = JsonSchemaType.Array, Items = ToSchema(a.Item), MaxItems = a.MaxItems };
            case ObjectShape o:
                var obj = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    AdditionalPropertiesAllowed = o.Open,
                    Properties = o.Members.ToDictionary(m => m.Key, m =>
                    {
                        var child = ToSchema(m.Value.Shape);
                        if (m.Value.Secret)
                        {
                            child.WriteOnly = true;
                        }
                        return (IOpenApiSchema)child;
                    }),
                    Required = new HashSet<string>(o.Members.Where(m => m.Value.Required).Select(m => m.Key)),
                };
                return obj;
            default:
                return new OpenApiSchema();
        }
    }
}
