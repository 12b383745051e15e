using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectApp.BrowserTests.Infrastructure;
using JiraSimulator;
using Microsoft.Playwright;

namespace ConnectApp.BrowserTests;

/// <summary>Every surface through the local Jira host, in headless Chromium: the issue's scenario end to end.</summary>
[Collection(BrowserSuite.Name)]
public sealed class SurfacesTests(BrowserFixture fixture)
{
    private const string Secret = "AGENT-ONLY-7f3a9c";
    private const string Customer = "557058:browser-customer-1";

    /// <summary>An organization (with a customer in it) and agent-only values the customer must never receive.</summary>
    private async Task<(SimulatedSite Site, JsonObject Organization)> SeedAsync()
    {
        var site = await fixture.InstallSiteAsync();
        site.AddUser(Customer, SiteRole.Customer, "Casey Customer");
        var admin = fixture.Api(site, JiraSimulator.Demo.DemoSeeder.AdminAccountId);
        await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "organization", key = "internal_notes", label = "Internal notes", type = "text", visibility = "agents" });
        await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "customer", key = "risk", label = "Risk", type = "text", visibility = "agents" });
        await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "customer", key = "job_title", label = "Job title", type = "text", visibility = "customers-edit" });
        var agent = fixture.Api(site);
        var org = await BrowserFixture.SendAsync(agent, HttpMethod.Post, "organizations", new { jsmId = "501", name = "Initech <b>Ltd</b>", values = new { internal_notes = Secret + "-org" } });
        await BrowserFixture.SendAsync(agent, HttpMethod.Post, "customers", new
        {
            accountId = Customer,
            name = "Casey Customer",
            email = "casey@example.com",
            organizationIds = new[] { org["id"]!.GetValue<string>() },
            values = new { risk = Secret + "-customer", job_title = "<img src=x onerror=alert(1)>" },
        });
        return (site, org);
    }

    [Fact]
    public async Task AdminCreatesSelect_AgentSetsIt_CustomerSeesItReadOnly_ThenEditsItOnceEditable()
    {
        var (site, org) = await SeedAsync();

        // The admin creates a select field visible to customers.
        await using (var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin")))
        {
            var app = admin.App;
            await app.GetByLabel("Label").First.FillAsync("Support plan");
            await ChooseAsync(app, "Type", "select");
            await ChooseAsync(app, "Visibility", "Customers can view");
            await app.GetByLabel("Options (separated by commas)").FillAsync("Gold, Silver, Bronze");
            await app.GetByRole(AriaRole.Button, new() { Name = "Create field" }).ClickAsync();
            await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Support plan created." })).ToBeVisibleAsync();
            await Assertions.Expect(app.Locator("li[data-field-key=support_plan]")).ToBeVisibleAsync();
            await admin.ScreenshotAsync("scenario-1-configuration-admin-light");
        }

        // The agent sets it in the issue view (reporter: the customer).
        await using (var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "issue-view", "agent", extra: $"reporter={Uri.EscapeDataString(Customer)}")))
        {
            var app = agent.App;
            var orgSection = app.GetByRole(AriaRole.Region, new() { Name = "Organization Initech <b>Ltd</b>" });
            await Assertions.Expect(orgSection).ToContainTextAsync(Secret + "-org"); // agents see agent-only fields
            await orgSection.GetByRole(AriaRole.Button, new() { Name = "Edit Initech <b>Ltd</b>" }).ClickAsync();
            await ChooseAsync(orgSection, "Support plan", "Gold");
            await orgSection.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
            await Assertions.Expect(orgSection.Locator("[data-field=support_plan] dd")).ToHaveTextAsync("Gold");
            Assert.All(await agent.ApiCallsAsync(), c => Assert.StartsWith("JWT ey", c.Authorization ?? string.Empty, StringComparison.Ordinal));
            var frameHeight = await agent.Page.Locator("#app-frame").EvaluateAsync<int>("f => f.getBoundingClientRect().height");
            Assert.True(frameHeight > 200, $"the host resized the iframe to its content ({frameHeight}px)");
            await agent.ScreenshotAsync("scenario-2-issue-view-agent-light");
        }

        // The customer sees it on the portal, read-only, and never receives an agent-only value.
        await using (var customer = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "portal-profile", "customer", extra: $"customer={Uri.EscapeDataString(Customer)}")))
        {
            var app = customer.App;
            var section = app.GetByRole(AriaRole.Region, new() { Name = "Initech <b>Ltd</b>" });
            await Assertions.Expect(section.Locator("[data-field=support_plan] dd")).ToHaveTextAsync("Gold");
            Assert.Equal(0, await section.GetByLabel("Support plan").CountAsync());
            await Assertions.Expect(app.GetByLabel("Job title")).ToHaveValueAsync("<img src=x onerror=alert(1)>"); // markup stays text
            await AssertNoAgentOnlyDataAsync(customer);
            await customer.ScreenshotAsync("scenario-3-portal-profile-customer-light");
        }

        // The admin makes it editable by customers.
        await using (var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin")))
        {
            var row = admin.App.Locator("li[data-field-key=support_plan]");
            await row.GetByRole(AriaRole.Button, new() { Name = "Edit Support plan" }).ClickAsync();
            await ChooseAsync(row, "Visibility", "Customers can edit");
            await row.GetByRole(AriaRole.Button, new() { Name = "Save Support plan" }).ClickAsync();
            await Assertions.Expect(row.GetByRole(AriaRole.Status).Filter(new() { HasText = "Support plan saved." })).ToBeVisibleAsync();
            await Assertions.Expect(row.Locator("span").Filter(new() { HasTextString = "Customers can edit" }).First).ToBeVisibleAsync();
        }

        // The customer edits it.
        await using (var customer = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "portal-request", "customer", extra: $"customer={Uri.EscapeDataString(Customer)}")))
        {
            var section = customer.App.GetByRole(AriaRole.Region, new() { Name = "Initech <b>Ltd</b>" });
            await ChooseAsync(section, "Support plan", "Silver");
            await section.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
            await Assertions.Expect(section.GetByRole(AriaRole.Status).Filter(new() { HasText = "Saved." })).ToBeVisibleAsync();
            await AssertNoAgentOnlyDataAsync(customer);
            await customer.ScreenshotAsync("scenario-4-portal-request-customer-light");
        }

        // The directory finds the organization by that value: a field filter goes to the directory search, which the
        // mirror keeps up to date through the outbox and RabbitMQ (a change reaches it within moments: apply again until then).
        await using (var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "agent")))
        {
            var app = agent.App;
            await app.GetByLabel("Filter by field").First.SelectOptionAsync(new SelectOptionValue { Label = "Support plan" });
            await app.GetByLabel("Filter value").First.FillAsync("Silver");
            var summary = app.GetByTestId("search-summary");
            for (var attempt = 0; attempt < 30; attempt++)
            {
                await app.GetByRole(AriaRole.Button, new() { Name = "Apply filter" }).First.ClickAsync();
                await Assertions.Expect(summary).ToBeVisibleAsync();
                if ((await summary.TextContentAsync())?.StartsWith("1 organizations", StringComparison.Ordinal) == true)
                {
                    break;
                }

                await Task.Delay(500);
            }

            await Assertions.Expect(summary).ToContainTextAsync("1 organizations");
            await Assertions.Expect(app.GetByRole(AriaRole.Table, new() { Name = "organizations found" })).ToContainTextAsync("Initech <b>Ltd</b>");

            // Filters on two fields must both hold; each can be removed on its own.
            await app.GetByLabel("Filter by field").First.SelectOptionAsync(new SelectOptionValue { Label = "Internal notes" });
            await app.GetByLabel("Filter value").First.FillAsync("no such words");
            await app.GetByRole(AriaRole.Button, new() { Name = "Apply filter" }).First.ClickAsync();
            var active = app.GetByRole(AriaRole.List, new() { Name = "Active filters" });
            await Assertions.Expect(active).ToContainTextAsync("Support plan is Silver");
            await Assertions.Expect(active).ToContainTextAsync("Internal notes contains no such words");
            await Assertions.Expect(app.GetByText("No organizations match.")).ToBeVisibleAsync();
            await app.GetByRole(AriaRole.Button, new() { Name = "Remove filter Internal notes contains no such words" }).ClickAsync();
            await Assertions.Expect(summary).ToContainTextAsync("1 organizations");

            // Applying a field's filter again replaces it.
            await app.GetByLabel("Filter by field").First.SelectOptionAsync(new SelectOptionValue { Label = "Support plan" });
            await app.GetByLabel("Filter value").First.FillAsync("Gold");
            await app.GetByRole(AriaRole.Button, new() { Name = "Apply filter" }).First.ClickAsync();
            await Assertions.Expect(app.GetByText("No organizations match.")).ToBeVisibleAsync();
            await Assertions.Expect(active).ToContainTextAsync("Support plan is Gold");
            await Assertions.Expect(active).Not.ToContainTextAsync("Silver");
            await agent.ScreenshotAsync("scenario-5-directory-filter-agent-light");
        }

        var stored = await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Get, $"organizations/{org["id"]}");
        var field = (await fixture.Api(site).GetFromJsonAsync<JsonArray>("fields?entity=organization"))!.Single(f => f!["key"]!.GetValue<string>() == "support_plan")!;
        var silver = field["options"]!.AsArray().Single(o => o!["label"]!.GetValue<string>() == "Silver")!["id"]!.GetValue<string>();
        Assert.Equal(silver, stored["values"]!["support_plan"]!.GetValue<string>());
    }

    [Fact]
    public async Task IssueView_SwitchesFromTheReporterToTheRequestParticipants()
    {
        var (site, _) = await SeedAsync();
        var agent = fixture.Api(site);
        await BrowserFixture.SendAsync(agent, HttpMethod.Post, "customers", new { accountId = "557058:participant-1", name = "Pat Participant", values = new { job_title = "Buyer" } });
        var url = fixture.HostPage(site, "issue-view", "agent", extra: $"reporter={Uri.EscapeDataString(Customer)}&participants=557058:participant-1,557058:unknown-2");
        await using var page = await HostedPage.OpenAsync(fixture, url);
        var app = page.App;
        await Assertions.Expect(app.GetByRole(AriaRole.Region, new() { Name = "Customer Casey Customer" })).ToBeVisibleAsync();
        await app.GetByRole(AriaRole.Button, new() { Name = "Participants (2)" }).ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Region, new() { Name = "Customer Pat Participant" })).ToContainTextAsync("Buyer");
        await Assertions.Expect(app.Locator("#root")).ToContainTextAsync("No customer fields yet for 557058:unknown-2.");
        Assert.Equal(0, await app.GetByRole(AriaRole.Region, new() { Name = "Customer Casey Customer" }).CountAsync());
    }

    /// <summary>Picks an option of an @atlaskit/select by keyboard: focus its input (found by its label), type, Enter.</summary>
    private static async Task ChooseAsync(ILocator scope, string label, string option)
    {
        var input = scope.GetByLabel(label, new() { Exact = true });
        await input.FocusAsync();
        await input.PressSequentiallyAsync(option);
        await input.Page.Keyboard.PressAsync("Enter");
    }

    private static Task ChooseAsync(IFrameLocator scope, string label, string option) => ChooseAsync(scope.Locator("body"), label, option);

    /// <summary>Reads the iframe's DOM and every response body the page received: no agent-only value anywhere.</summary>
    private static async Task AssertNoAgentOnlyDataAsync(HostedPage page)
    {
        Assert.DoesNotContain(Secret, await page.AppDomAsync(), StringComparison.Ordinal);
        var calls = await page.ApiCallsAsync();
        Assert.NotEmpty(calls);
        Assert.All(calls, c => Assert.True(c.Authorization?.StartsWith("JWT ey", StringComparison.Ordinal) == true, $"{c.Url} went without a context token"));
        var bodies = await page.ResponseBodiesAsync();
        Assert.Contains(bodies, b => b.Url.Contains("/api/portal/me", StringComparison.Ordinal));
        foreach (var (url, body) in bodies)
        {
            Assert.False(body.Contains(Secret, StringComparison.Ordinal), $"{url} sent an agent-only value to the customer");
            Assert.False(body.Contains("Internal notes", StringComparison.Ordinal) && url.Contains("/api/", StringComparison.Ordinal), $"{url} named an agent-only field");
        }
    }
}
