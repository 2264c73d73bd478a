using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;
using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Sessions;
using Google.Protobuf.WellKnownTypes;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

public static partial class ProtoMapper
{
    /// <summary>Engine settings from a request: unset fields from <paramref name="start"/>, or the defaults (temperature 1, seed random).</summary>
    public static SamplingSettings FromProto(Api.SamplingSettings? s, SamplingSettings? start = null)
    {
        var result = start ?? new SamplingSettings(Temperature: 1.0, Seed: SamplingSettings.DrawSeed());
        if (s == null) return result;
        if (s.HasTemperature) result = result with { Temperature = s.Temperature };
        if (s.HasTopK) result = result with { TopK = s.TopK };
        if (s.HasTopP) result = result with { TopP = s.TopP };
        if (s.HasMinP) result = result with { MinP = s.MinP };
        if (s.HasSeed) result = result with { Seed = s.Seed };
        try
        {
            return result.Validate();
        }
        catch (ArgumentException e)
        {
            throw ServerException.Invalid("sampling." + e.Message);
        }
    }

    public static Api.SamplingSettings ToProto(SamplingSettings s) => new()
    {
        Temperature = s.Temperature,
        TopK = s.TopK,
        TopP = s.TopP,
        Seed = s.Seed,
        MinP = s.MinP,
    };

    public static Api.Session ToProto(ServerSession s) => new()
    {
        Id = s.Id,
        ModelName = s.Model.Name,
        Architecture = s.Model.Trained.Architecture.Name,
        Sampling = ToProto(s.Settings),
        CharactersSeen = s.CharactersSeen,
        Created = Timestamp.FromDateTimeOffset(s.Created),
        IdleTimeoutSeconds = (int)s.IdleTimeout.TotalSeconds,
        Owner = s.Owner,
        LastUsed = Timestamp.FromDateTimeOffset(s.LastUsed),
        IdleSecondsLeft = (int)Math.Ceiling(s.IdleLeft.TotalSeconds),
        UnknownChars = ToProto(s.UnknownChars),
        GenerationPrecision = Engine.Models.GenerationPrecisions.Name(s.Model.Trained.Model.GenerationPrecision), // the model's own: float32 for one with no bf16 path
    };

    /// <summary>A request's unknown_chars (unset, 0, is refuse, as before there was a choice); a value this server does not know names <paramref name="field"/>.</summary>
    public static UnknownCharPolicy FromProto(Api.UnknownChars value, string field) => value switch
    {
        Api.UnknownChars.Unspecified or Api.UnknownChars.Refuse => UnknownCharPolicy.Refuse,
        Api.UnknownChars.Skip => UnknownCharPolicy.Skip,
        _ => throw ServerException.Invalid($"{field} = {(int)value} is not allowed; use UNKNOWN_CHARS_REFUSE (1) or UNKNOWN_CHARS_SKIP (2) (0, unset: refuse).", field),
    };

    public static Api.UnknownChars ToProto(UnknownCharPolicy policy) => policy switch
    {
        UnknownCharPolicy.Refuse => Api.UnknownChars.Refuse,
        UnknownCharPolicy.Skip => Api.UnknownChars.Skip,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "no proto value for this policy"),
    };

    public static Api.GenerateResponse.Types.FinishReason ToProto(GenerationFinish finish) => finish switch
    {
        GenerationFinish.None => Api.GenerateResponse.Types.FinishReason.Unspecified,
        GenerationFinish.Length => Api.GenerateResponse.Types.FinishReason.Length,
        GenerationFinish.Stop => Api.GenerateResponse.Types.FinishReason.Stop,
        _ => throw new ArgumentOutOfRangeException(nameof(finish), finish, "no proto value for this finish"),
    };

    public static Api.GenerateResponse ToProto(GenerationOutput o, bool probabilities)
    {
        var result = new Api.GenerateResponse
        {
            Text = o.Text,
            Probability = probabilities ? o.Last.Probability : 0,
            CharactersSeen = o.CharactersSeen,
            FinishReason = ToProto(o.Finish),
        };
        if (o.Last.Alternatives != null)
            result.Alternatives.AddRange(o.Last.Alternatives.Select(a => new Api.Alternative { Text = a.Text, Probability = a.Probability }));
        return result;
    }

    /// <summary>One piece of an Interact prediction, answering the request at <paramref name="requestIndex"/>.</summary>
    public static Api.InteractResponse ToInteractResponse(GenerationOutput o, long requestIndex) => new()
    {
        RequestIndex = requestIndex,
        Text = o.Text,
        Probability = o.Last.Probability,
        Done = o.Finish != GenerationFinish.None,
        CharactersSeen = o.CharactersSeen,
    };

    public static IEnumerable<Api.Alternative> ToProto(IEnumerable<(string Text, float Probability)> alternatives) =>
        alternatives.Select(a => new Api.Alternative { Text = a.Text, Probability = a.Probability });

    /// <summary>One char's score in a Feed answer (positions are implied: the entries are in text order).</summary>
    public static Api.CharScore ToProto(CharScore score) => new() { Character = score.Char, Loss = score.Loss, Top1 = score.Top1 };

    /// <summary>A character a session's Skip dropped, and how many times (Feed, Generate's prime, Interact).</summary>
    public static Api.SkippedChar ToProto(Engine.Text.SkippedCharacter skipped) => new() { Character = skipped.Character.ToString(), Count = skipped.Count };
}
