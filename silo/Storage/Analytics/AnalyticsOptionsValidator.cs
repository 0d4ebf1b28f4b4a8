using Microsoft.Extensions.Options;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>Lets <c>ValidateOnStart</c> fail the host with <see cref="AnalyticsOptions.Validate"/>'s messages.</summary>
internal sealed class AnalyticsOptionsValidator : IValidateOptions<AnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, AnalyticsOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
