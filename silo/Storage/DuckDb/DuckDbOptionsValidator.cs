using Microsoft.Extensions.Options;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>Lets <c>ValidateOnStart</c> fail the host with <see cref="DuckDbOptions.Validate"/>'s messages.</summary>
internal sealed class DuckDbOptionsValidator : IValidateOptions<DuckDbOptions>
{
    public ValidateOptionsResult Validate(string? name, DuckDbOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
