// The true bare baseline of bench/run.sh: a .NET 10 minimal API answering a constant, no logging.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/", () => "ok");
app.Run();
