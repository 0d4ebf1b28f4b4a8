using System.CommandLine;
using Ingest.Cli.Bench;
using Ingest.Cli.Cluster;

var root = new RootCommand("Tools for the event ingestion cluster.");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ClusterCommand.Create());
// Verbs handle Ctrl+C and SIGTERM themselves (ShutdownSignal): stopping a cluster takes longer
// than System.CommandLine would wait before exiting.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
