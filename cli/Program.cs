using System.CommandLine;
using Ingest.Cli.Bench;

var root = new RootCommand("Tools for the event ingestion cluster.");
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync();
