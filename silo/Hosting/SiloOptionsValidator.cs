using Ingest.Contracts;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

/// <summary>Fails start-up with a message naming the setting, rather than misbehaving later.</summary>
internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options)
    {
        var errors = new List<string>();
        if (!StorageSinkNames.TryParse(options.Sinks, out var sinks, out var unknown))
            errors.Add($"Silo:Sinks names an unknown sink '{unknown}'; the sinks are duckdb and postgres (got '{options.Sinks}').");
        else if (sinks == StorageSinks.None)
            errors.Add("Silo:Sinks must name at least one sink: duckdb, postgres, or duckdb,postgres.");
        if (options.FlushMaxEvents < 1)
            errors.Add($"Silo:FlushMaxEvents must be at least 1 (got {options.FlushMaxEvents}).");
        if (options.FlushMaxBytes < 1)
            errors.Add($"Silo:FlushMaxBytes must be at least 1 (got {options.FlushMaxBytes}).");
        if (options.FlushMaxDelay <= TimeSpan.Zero)
            errors.Add($"Silo:FlushMaxDelay must be positive (got {options.FlushMaxDelay}).");
        if (options.FlushFlights < 1)
            errors.Add($"Silo:FlushFlights must be at least 1 (got {options.FlushFlights}).");
        if (options.IdleTimeout <= TimeSpan.Zero)
            errors.Add($"Silo:IdleTimeout must be positive (got {options.IdleTimeout}).");
        if (options.IdleCheckInterval <= TimeSpan.Zero)
            errors.Add($"Silo:IdleCheckInterval must be positive (got {options.IdleCheckInterval}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
