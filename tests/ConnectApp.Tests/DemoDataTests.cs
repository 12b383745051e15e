using ConnectApp.Tests.Infrastructure;
using JiraSimulator.Demo;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class DemoDataTests(ConnectAppFixture app)
{
    [Fact]
    public void Generator_IsDeterministic_AndCoversEveryFieldType()
    {
        var a = DemoData.Generate(5, 20);
        var b = DemoData.Generate(5, 20);
        Assert.Equal(a.Customers.Select(c => c.Name + c.Values.ToJsonString()), b.Customers.Select(c => c.Name + c.Values.ToJsonString()));
        var types = DemoData.StandardFields.Select(f => f.Type).Distinct().Order().ToArray();
        Assert.Equal(new[] { "checkbox", "date", "email", "multi-select", "number", "paragraph", "phone", "select", "text", "url", "user" }, types);
    }

    [Fact]
    public async Task SeededSite_GetsItsDirectoryByASync_AndServesTheIssuePanelWithGeneratedValues()
    {
        var site = await app.InstallSiteAsync();
        var result = await DemoSeeder.SeedAsync(app.Client(), site, DemoData.Generate(6, 25));
        Assert.Equal(DemoData.StandardFields.Count, result.Fields);
        Assert.Equal(6, result.Organizations);
        Assert.Equal(25, result.Customers);
        Assert.Equal(31, result.Synced); // every organization and customer came from JSM through the sync
        Assert.Equal(31, result.ValuesWritten); // every generated value passed the app's validation

        var agent = app.AsContext(site, DemoSeeder.AgentAccountId);
        var panel = await agent.GetAsync($"api/issue-panel?reporter={result.SampleReporter}").OkJsonAsync();
        var customer = panel["people"]![0]!["customer"]!;
        Assert.Equal(7, customer["values"]!.AsObject().Count);
        Assert.NotEmpty(panel["organizations"]!.AsArray());

        // The customers' organizations are JSM's memberships, brought over by the sync.
        var sample = site.Directory.Organizations.Where(o => site.Directory.MembersOf(o.Id).Contains(result.SampleReporter)).Select(o => o.Name).Order();
        Assert.Equal(sample, panel["organizations"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()).Order());

        // Seeding again adds nothing twice.
        var again = await DemoSeeder.SeedAsync(app.Client(), site, DemoData.Generate(6, 25));
        Assert.Equal(0, again.Fields);
        Assert.Equal(0, again.Synced);
        Assert.Equal(0, again.ValuesWritten);
        Assert.Equal(25, again.Customers);
        var page = await agent.GetAsync("api/customers?limit=100").OkJsonAsync();
        Assert.Equal(25, page["values"]!.AsArray().Count);
    }
}
