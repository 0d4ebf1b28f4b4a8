using Ingest.Gateway;
using Ingest.Silo.Hosting;

// Settings ship beside the binary; relative data paths still resolve against the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSilo();
builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();
