namespace Platform.Contracts;

/// <summary>What kind of failure a grain reports; the Api maps each to one HTTP status.</summary>
public enum ProblemKind
{
    /// <summary>The request is malformed: wrong type, unknown field, bad JSON (400).</summary>
    Invalid = 0,
    /// <summary>The request is well-formed but cannot be carried out (422).</summary>
    Unprocessable = 1,
    /// <summary>The resource does not exist for this tenant (404).</summary>
    NotFound = 2,
    /// <summary>The resource is in a state that forbids the request (409).</summary>
    Conflict = 3,
    /// <summary>A plan limit is reached (429).</summary>
    LimitExceeded = 4,
    /// <summary>No capacity right now; retry later (503).</summary>
    Unavailable = 5,
    /// <summary>The caller lacks the credential the resource needs, e.g. a conversation's meeting token (403).</summary>
    Forbidden = 6,
}

/// <summary>One offending field: a JSON path such as <c>layers.llm.model</c> or <c>/layers/tts</c>, and why.</summary>
[GenerateSerializer, Immutable]
public sealed record FieldError([property: Id(0)] string Field, [property: Id(1)] string Message);

/// <summary>A failure to return to the client as RFC 7807 problem details, naming the fields at fault.</summary>
[GenerateSerializer, Immutable]
public sealed record Problem(
    [property: Id(0)] ProblemKind Kind,
    [property: Id(1)] string Detail,
    [property: Id(2)] IReadOnlyList<FieldError> Errors,
    [property: Id(3)] IReadOnlyDictionary<string, string>? Extensions = null)
{
    /// <summary>A problem about one field.</summary>
    public static Problem Field(ProblemKind kind, string field, string message) =>
        new(kind, message, [new FieldError(field, message)]);

    /// <summary>A malformed request, naming each offending field.</summary>
    public static Problem Invalid(IReadOnlyList<FieldError> errors) =>
        new(ProblemKind.Invalid, errors.Count == 1 ? errors[0].Message : $"{errors.Count} fields are invalid: {string.Join(", ", errors.Select(e => e.Field))}", errors);

    /// <summary>The resource was not found (a foreign tenant's id answers exactly the same).</summary>
    public static Problem NotFound(string what, string id) =>
        new(ProblemKind.NotFound, $"No {what} with id '{id}' exists.", []);
}

/// <summary>Either a value or a problem.</summary>
[GenerateSerializer, Immutable]
public sealed record Result<T>([property: Id(0)] T? Value, [property: Id(1)] Problem? Problem)
{
    /// <summary>True when there is a value.</summary>
    public bool IsOk => Problem is null;

    /// <summary>A success.</summary>
    public static Result<T> Ok(T value) => new(value, null);

    /// <summary>A failure.</summary>
    public static Result<T> Fail(Problem problem) => new(default, problem);

    /// <summary>Converts a problem into a failed result.</summary>
    public static implicit operator Result<T>(Problem problem) => Fail(problem);
}

/// <summary>A page of a tenant-scoped listing.</summary>
[GenerateSerializer, Immutable]
public sealed record Page<T>([property: Id(0)] IReadOnlyList<T> Items, [property: Id(1)] long TotalCount);
