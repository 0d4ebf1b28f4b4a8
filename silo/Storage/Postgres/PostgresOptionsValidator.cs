using Microsoft.Extensions.Options;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>Lets <c>ValidateOnStart</c> fail the host with <see cref="PostgresOptions.Validate"/>'s messages.</summary>
internal sealed class PostgresOptionsValidator : IValidateOptions<PostgresOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgresOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
