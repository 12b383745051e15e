using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.BrowserTests.Infrastructure;
using JiraSimulator;
using Microsoft.Playwright;

namespace ConnectApp.BrowserTests;

/// <summary>Keyboard reorder, accessibility of every surface (light and dark, with screenshots), stale writes, API validation, CSV import, licensing, caching.</summary>
[Collection(BrowserSuite.Name)]
public sealed class PagesTests(BrowserFixture fixture)
{
    private const string Customer = "557058:browser-customer-2";
    private const string Admin = JiraSimulator.Demo.DemoSeeder.AdminAccountId;

    private async Task<(SimulatedSite Site, JsonObject Organization)> SeedAsync()
    {
        var site = await fixture.InstallSiteAsync();
        site.AddUser(Customer, SiteRole.Customer, "Robin Requester");
        var admin = fixture.Api(site, Admin);
        foreach (var (key, label, type, visibility) in new[] { ("alpha", "Alpha", "text", "customers-view"), ("beta", "Beta", "phone", "agents"), ("gamma", "Gamma", "number", "customers-edit") })
        {
            await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "organization", key, label, type, visibility });
        }

        await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "customer", key = "language", label = "Language", type = "select", visibility = "customers-edit", options = new[] { "English", "German" } });
        var agent = fixture.Api(site);
        var org = await BrowserFixture.SendAsync(agent, HttpMethod.Post, "organizations", new { jsmId = "101", name = "Globex", values = new { alpha = "first", gamma = 3 } });
        await BrowserFixture.SendAsync(agent, HttpMethod.Post, "customers", new { accountId = Customer, name = "Robin Requester", email = "robin@example.com", organizationIds = new[] { org["id"]!.GetValue<string>() }, values = new { language = "English" } });
        return (site, org);
    }

    [Fact]
    public async Task Configuration_ReordersFieldsWithTheKeyboardOnly()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await Assertions.Expect(app.Locator("li[data-field-key=alpha]")).ToBeVisibleAsync();

        // Tab from the top of the page until the handle of Alpha has focus: no mouse anywhere.
        await app.Locator("body").EvaluateAsync("b => b.ownerDocument.defaultView.focus()");
        var focused = string.Empty;
        for (var i = 0; i < 80 && focused != "Reorder Alpha"; i++)
        {
            await admin.Page.Keyboard.PressAsync("Tab");
            focused = await app.Locator("body").EvaluateAsync<string>("b => b.ownerDocument.activeElement?.getAttribute('aria-label') ?? ''");
        }

        Assert.Equal("Reorder Alpha", focused);
        var outline = await app.GetByRole(AriaRole.Button, new() { Name = "Reorder Alpha" }).EvaluateAsync<string>("e => getComputedStyle(e).outlineStyle");
        Assert.NotEqual("none", outline); // focus is visible
        await admin.Page.Keyboard.PressAsync("Space");
        await admin.Page.Keyboard.PressAsync("ArrowDown");
        await admin.Page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Alpha moved to position 3 of 3." })).ToBeAttachedAsync();
        await admin.Page.Keyboard.PressAsync("Space");
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Alpha dropped at position 3 of 3." })).ToBeAttachedAsync();

        var order = new List<string>();
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var fields = (await fixture.Api(site).GetFromJsonAsync<JsonArray>("fields?entity=organization"))!;
            order = fields.OrderBy(f => f!["position"]!.GetValue<int>()).Select(f => f!["key"]!.GetValue<string>()).ToList();
            if (order.SequenceEqual(["beta", "gamma", "alpha"]))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(["beta", "gamma", "alpha"], order);
        await Assertions.Expect(app.Locator("ol li").First).ToHaveAttributeAsync("data-field-key", "beta");
    }

    [Fact]
    public async Task Configuration_ReordersFieldsByDragAndDrop()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await app.GetByRole(AriaRole.Button, new() { Name = "Reorder Gamma" }).DragToAsync(app.Locator("li[data-field-key=alpha]"));
        await Assertions.Expect(app.Locator("ol li").First).ToHaveAttributeAsync("data-field-key", "gamma");
        var order = new List<string>();
        for (var attempt = 0; attempt < 40 && !order.SequenceEqual(["gamma", "alpha", "beta"]); attempt++)
        {
            await Task.Delay(100);
            var fields = (await fixture.Api(site).GetFromJsonAsync<JsonArray>("fields?entity=organization"))!;
            order = fields.OrderBy(f => f!["position"]!.GetValue<int>()).Select(f => f!["key"]!.GetValue<string>()).ToList();
        }

        Assert.Equal(["gamma", "alpha", "beta"], order);
    }

    public static TheoryData<string, string, string> Surfaces() => new()
    {
        { "issue-view", "agent", "light" }, { "issue-view", "agent", "dark" },
        { "organization", "agent", "light" }, { "organization", "agent", "dark" },
        { "portal-profile", "customer", "light" }, { "portal-profile", "customer", "dark" },
        { "portal-request", "customer", "light" }, { "portal-request", "customer", "dark" },
        { "directory", "agent", "light" }, { "directory", "agent", "dark" },
        { "configuration", "admin", "light" }, { "configuration", "admin", "dark" },

        // Admins are agents too; a customer who reaches an agent page gets the API's refusal in words.
        { "issue-view", "admin", "light" }, { "organization", "admin", "dark" }, { "directory", "admin", "light" },
        { "directory", "customer", "light" },
    };

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task Surface_RendersInTheHost_AndAxeFindsNoSeriousOrCriticalViolations(string surface, string role, string theme)
    {
        var (site, _) = await SeedAsync();
        await using var page = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, surface, role, theme, $"customer={Uri.EscapeDataString(Customer)}&organization=101"), theme);
        var expected = surface switch
        {
            "issue-view" or "organization" => "Globex",
            "portal-profile" or "portal-request" => "Your details",
            "directory" => "Customer directory",
            _ => "Organization and customer fields",
        };
        await Assertions.Expect(page.App.Locator("#root")).ToContainTextAsync(expected);
        await Assertions.Expect(page.App.Locator("[aria-busy=true]")).ToHaveCountAsync(0);
        if ((surface, role) is ("directory", "customer"))
        {
            await Assertions.Expect(page.App.GetByRole(AriaRole.Alert).First).ToContainTextAsync("Something went wrong");
        }

        Assert.Equal(theme, await page.App.Locator("html").GetAttributeAsync("data-color-mode"));
        await page.ScreenshotAsync($"{surface}-{role}-{theme}");
        var violations = await page.AxeSeriousViolationsAsync();
        Assert.True(violations.Count == 0, string.Join('\n', violations));
        Assert.DoesNotContain(page.ConsoleMessages, m => m.Contains("Content Security Policy", StringComparison.Ordinal) || m.Contains("Warning:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IssueView_StaleWriteOffersReload_AndShowsTheApisValidationMessage()
    {
        var (site, org) = await SeedAsync();
        await using var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "issue-view", "agent", extra: $"reporter={Uri.EscapeDataString(Customer)}"));
        var section = agent.App.GetByRole(AriaRole.Region, new() { Name = "Organization Globex" });
        await section.GetByRole(AriaRole.Button, new() { Name = "Edit Globex" }).ClickAsync();

        // The browser does not check phone numbers; the API does, and its words appear under the input.
        await section.GetByLabel("Beta").FillAsync("call me maybe");
        await section.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(section).ToContainTextAsync("must be a phone number");
        var describedBy = await section.GetByLabel("Beta").GetAttributeAsync("aria-describedby");
        await Assertions.Expect(section.Locator($"[id='{describedBy}']")).ToContainTextAsync("must be a phone number"); // the message belongs to its input

        // Someone else changes the organization meanwhile: the save is refused (412) and a reload is offered.
        await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Patch, $"organizations/{org["id"]}/values", new { values = new { alpha = "changed elsewhere" } }, ifMatch: org["version"]!.GetValue<int>());
        await section.GetByLabel("Beta").FillAsync("+1 555 0100");
        await section.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(section.GetByRole(AriaRole.Alert)).ToContainTextAsync("Someone changed this since you opened it");
        await section.GetByRole(AriaRole.Button, new() { Name = "Reload" }).ClickAsync();
        await Assertions.Expect(agent.App.Locator("[data-field=alpha] dd")).ToHaveTextAsync("changed elsewhere");
    }

    [Fact]
    public async Task Directory_ImportsACsvOf1000Rows_WithProgressAndARowError_AndRestoresFromHistory()
    {
        var (site, org) = await SeedAsync();
        var csv = new StringBuilder("jsmId,name,alpha,beta,gamma\n");
        for (var i = 1; i <= 1000; i++)
        {
            csv.Append(i == 500 ? $"{2000 + i},Imported {i},a{i},not a phone,{i}\n" : $"{2000 + i},Imported {i},a{i},,{i}\n");
        }

        await using var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "agent"));
        var app = agent.App;
        await Assertions.Expect(app.GetByRole(AriaRole.Table, new() { Name = "organizations found" })).ToContainTextAsync("Globex");
        await app.GetByLabel("Import organizations from CSV").SetInputFilesAsync(new FilePayload { Name = "orgs.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv.ToString()) });
        await Assertions.Expect(app.GetByRole(AriaRole.Progressbar, new() { Name = "Import progress" })).ToBeVisibleAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "1000 of 1000 rows read" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var errors = app.GetByRole(AriaRole.Table, new() { Name = "Rows with errors" });
        await Assertions.Expect(errors).ToContainTextAsync("must be a phone number");
        await Assertions.Expect(errors.Locator("tbody tr")).ToHaveCountAsync(1);
        await agent.ScreenshotAsync("directory-import-agent-light");

        // Search (the list API's q=), then the record's history and a restore.
        await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Patch, $"organizations/{org["id"]}/values", new { values = new { alpha = "second" } }, ifMatch: org["version"]!.GetValue<int>());
        await app.GetByLabel("Search organizations by name or JSM id").FillAsync("Globex");
        await app.GetByLabel("Search organizations by name or JSM id").PressAsync("Enter");
        await Assertions.Expect(app.GetByRole(AriaRole.Table, new() { Name = "organizations found" }).Locator("tbody tr")).ToHaveCountAsync(1);
        await app.GetByRole(AriaRole.Button, new() { Name = "Open Globex" }).ClickAsync();
        var details = app.GetByRole(AriaRole.Region, new() { Name = "Details of Globex" });
        await Assertions.Expect(details.Locator("[data-field=alpha] dd")).ToHaveTextAsync("second");
        // By keyboard: the host resizes the iframe as the history loads, which can move a button between a mouse
        // click's hit test and the click itself.
        var restore = details.GetByRole(AriaRole.Button, new() { Name = "Restore Alpha to first" });
        await Assertions.Expect(details.Locator("[aria-busy=true]")).ToHaveCountAsync(0);
        await restore.FocusAsync();
        await agent.Page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(details.Locator("[data-field=alpha] dd")).ToHaveTextAsync("first");
    }

    [Fact]
    public async Task AgentAndAdminPages_ShowTheUnlicensedState_WhenJiraSaysLicNone_ThePortalDoesNot()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin", extra: "lic=none"));
        await Assertions.Expect(admin.App.GetByText("ConnectApp is not licensed on this site")).ToBeVisibleAsync();
        Assert.Contains("lic=none", admin.Page.Frames.Single(f => f.Url.Contains("/app/", StringComparison.Ordinal)).Url, StringComparison.Ordinal);
        await using var licensed = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin", extra: "lic=active"));
        await Assertions.Expect(licensed.App.GetByText("Organization fields").First).ToBeVisibleAsync();
        Assert.Equal(0, await licensed.App.GetByText("ConnectApp is not licensed on this site").CountAsync());

        // Agents see it too; customers on the portal never hear about licensing.
        await using var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "issue-view", "agent", extra: $"lic=none&reporter={Uri.EscapeDataString(Customer)}"));
        await Assertions.Expect(agent.App.GetByText("ConnectApp is not licensed on this site")).ToBeVisibleAsync();
        await using var customer = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "portal-profile", "customer", extra: $"lic=none&customer={Uri.EscapeDataString(Customer)}"));
        await Assertions.Expect(customer.App.GetByText("Your details")).ToBeVisibleAsync();
        Assert.Equal(0, await customer.App.GetByText("ConnectApp is not licensed on this site").CountAsync());
    }

    [Fact]
    public async Task Configuration_DirectorySync_RunsASyncFromJsm_AndShowsWhatItDid()
    {
        var (site, _) = await SeedAsync();
        site.Directory.Generate(organizations: 2, customers: 5, seed: 21); // JSM now has records the app has not read
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await app.GetByRole(AriaRole.Tab, new() { Name = "Directory sync" }).ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Table, new() { Name = "Recent syncs" })).ToContainTextAsync("install"); // the sync the install ran

        await app.GetByRole(AriaRole.Button, new() { Name = "Sync now" }).ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Last sync finished: 7 created" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(app.GetByRole(AriaRole.Table, new() { Name = "Recent syncs" })).ToContainTextAsync("admin");
        await admin.ScreenshotAsync("configuration-directory-sync-admin-light");

        var organizations = await fixture.Api(site).GetFromJsonAsync<JsonObject>("organizations");
        Assert.Contains(site.Directory.Organizations[0].Name, organizations!["values"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Configuration_RebuildsTheSearchIndex_WithProgress_AndTheDirectoryStillFinds()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await app.GetByRole(AriaRole.Tab, new() { Name = "Directory sync" }).ClickAsync();
        await app.GetByRole(AriaRole.Button, new() { Name = "Rebuild the search index" }).ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Search index rebuilt: 2 records." })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(app.GetByRole(AriaRole.Progressbar, new() { Name = "Search index rebuild" })).ToHaveAttributeAsync("aria-valuenow", "1");

        var found = await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Post, "search/organizations", new { q = "Globex" });
        Assert.Equal(1, found["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Configuration_YourData_DownloadsTheExport_ThenDeletesEverythingOnlyAfterThePhraseIsTypedBack()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await app.GetByRole(AriaRole.Tab, new() { Name = "Your data" }).ClickAsync();

        var download = await admin.Page.RunAndWaitForDownloadAsync(() => app.GetByRole(AriaRole.Button, new() { Name = "Download all data" }).ClickAsync());
        Assert.Equal("connectapp-export.json", download.SuggestedFilename);
        var path = await download.PathAsync();
        var export = JsonNode.Parse(await File.ReadAllTextAsync(path!))!;
        Assert.Equal("connectapp.export.v1", export["format"]!.GetValue<string>());
        Assert.Equal("Globex", export["organizations"]![0]!["name"]!.GetValue<string>());

        await app.GetByRole(AriaRole.Button, new() { Name = "Delete all data…" }).ClickAsync();
        var confirm = app.GetByRole(AriaRole.Form, new() { Name = "Confirm deleting all data" });
        var deleteButton = confirm.GetByRole(AriaRole.Button, new() { Name = "Delete everything" });
        await Assertions.Expect(deleteButton).ToBeDisabledAsync();
        await confirm.GetByLabel("Confirmation phrase").FillAsync("delete");
        await Assertions.Expect(deleteButton).ToBeDisabledAsync(); // not until the whole phrase is typed back
        var phrase = $"delete all data of {site.BaseUrl.Host}";
        await Assertions.Expect(confirm).ToContainTextAsync(phrase);
        await confirm.GetByLabel("Confirmation phrase").FillAsync(phrase);
        await deleteButton.ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "All data deleted" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await admin.ScreenshotAsync("configuration-your-data-admin-light");

        var left = await fixture.Api(site).GetFromJsonAsync<JsonObject>("organizations");
        Assert.Empty(left!["values"]!.AsArray());
        Assert.Empty((await fixture.Api(site, Admin).GetFromJsonAsync<JsonArray>("fields"))!);
    }

    [Fact]
    public async Task Pages_AreRevalidated_HashedAssetsAreCachedForAYear_AndBothGoOutCompressed()
    {
        using var http = new HttpClient { BaseAddress = fixture.AppUrl };
        using var page = await http.GetAsync("app/issue-view.html");
        page.EnsureSuccessStatusCode();
        Assert.Equal("no-cache", page.Headers.CacheControl?.ToString());
        Assert.Contains("frame-ancestors", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        var assets = System.Text.RegularExpressions.Regex.Matches(html, "/app/assets/[^\"]+\\.js").Select(m => m.Value).Distinct().ToList();
        var sizes = new Dictionary<string, long>();
        foreach (var candidate in assets)
        {
            sizes[candidate] = (await http.GetByteArrayAsync(candidate.TrimStart('/'))).Length;
        }

        var asset = sizes.MaxBy(a => a.Value).Key; // the largest script the page loads
        using var script = await http.GetAsync(asset.TrimStart('/'));
        script.EnsureSuccessStatusCode();
        Assert.Equal("public, max-age=31536000, immutable", script.Headers.CacheControl?.ToString());
        var plain = await script.Content.ReadAsByteArrayAsync();
        Assert.Empty(script.Content.Headers.ContentEncoding); // a client that asks for no encoding gets none

        // Heroku's router does not compress: the app sends pages and assets as Brotli or gzip, whichever the browser takes.
        foreach (var (encoding, decompress) in new (string, Func<Stream, Stream>)[]
        {
            ("br", s => new System.IO.Compression.BrotliStream(s, System.IO.Compression.CompressionMode.Decompress)),
            ("gzip", s => new System.IO.Compression.GZipStream(s, System.IO.Compression.CompressionMode.Decompress)),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, asset.TrimStart('/'));
            request.Headers.AcceptEncoding.ParseAdd(encoding);
            using var compressed = await http.SendAsync(request);
            Assert.Equal([encoding], compressed.Content.Headers.ContentEncoding);
            Assert.Contains("Accept-Encoding", compressed.Headers.Vary);
            var body = await compressed.Content.ReadAsByteArrayAsync();
            Assert.True(body.Length * 2 < plain.Length, $"{encoding}: {body.Length} bytes for {plain.Length}");
            using var decoded = new MemoryStream();
            await using (var stream = decompress(new MemoryStream(body)))
            {
                await stream.CopyToAsync(decoded);
            }

            Assert.Equal(plain, decoded.ToArray());
        }
    }

    [Fact]
    public async Task Configuration_ApiTokenIsShownOnce_ThenRevoked_AndALossyTypeChangeIsReportedNotApplied()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;

        // A type change that would lose values is refused, and the values are listed.
        var gamma = app.Locator("li[data-field-key=alpha]");
        await gamma.GetByRole(AriaRole.Button, new() { Name = "Edit Alpha" }).ClickAsync();
        await ChooseAsync(gamma, "Type", "number");
        await gamma.GetByRole(AriaRole.Button, new() { Name = "Change type" }).ClickAsync();
        var report = gamma.GetByRole(AriaRole.Table, new() { Name = "Values that would not convert" });
        await Assertions.Expect(report).ToContainTextAsync("Globex");
        await Assertions.Expect(report).ToContainTextAsync("first");

        // API tokens: created and shown once, then revoked.
        await app.GetByRole(AriaRole.Tab, new() { Name = "API tokens" }).ClickAsync();
        await app.GetByLabel("Name (what the integration is)").FillAsync("CRM sync");
        await app.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var value = await app.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        Assert.StartsWith("cat_", value, StringComparison.Ordinal);
        var table = app.GetByRole(AriaRole.Table, new() { Name = "API tokens" });
        await Assertions.Expect(table).ToContainTextAsync("CRM sync");
        Assert.DoesNotContain(value, await table.InnerTextAsync(), StringComparison.Ordinal);
        await table.GetByRole(AriaRole.Button, new() { Name = "Revoke CRM sync" }).ClickAsync();
        // Once in the full test command (both test assemblies at once on 2 cores, 2026-11-24), no DELETE had reached the
        // app when the default 15 s wait ran out; alone the revoke takes ~50 ms. Its handler first asks the host page
        // for a context token (the bridge), the likeliest place for the wait. Longer wait, same assertion.
        await Assertions.Expect(table).ToContainTextAsync("Revoked", new() { Timeout = 45_000 });
        await admin.ScreenshotAsync("configuration-api-tokens-admin-light");
    }

    [Fact]
    public async Task Directory_BulkEditsTheSelectedRecords()
    {
        var (site, _) = await SeedAsync();
        var agentApi = fixture.Api(site);
        await BrowserFixture.SendAsync(agentApi, HttpMethod.Post, "organizations", new { jsmId = "102", name = "Hooli" });
        await using var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "agent"));
        var app = agent.App;
        var bulk = app.GetByRole(AriaRole.Form, new() { Name = "Bulk edit" });
        await app.GetByLabel("Select Globex").CheckAsync();
        await Assertions.Expect(bulk.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Set a field on 1 selected");
        await app.GetByLabel("Select Hooli").CheckAsync();
        await Assertions.Expect(bulk.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Set a field on 2 selected");
        await ChooseAsync(bulk, "Field", "Gamma");
        await bulk.GetByLabel("Gamma").Last.FillAsync("42");
        await bulk.GetByRole(AriaRole.Button, new() { Name = "Apply to 2" }).ClickAsync();
        await Assertions.Expect(app.GetByRole(AriaRole.Status).Filter(new() { HasText = "Gamma set on 2 record(s)." })).ToBeVisibleAsync();
        var list = await agentApi.GetFromJsonAsync<JsonObject>("organizations");
        Assert.All(list!["values"]!.AsArray(), r => Assert.Equal(42, r!["values"]!["gamma"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task Directory_SavedViewsAndColumns_OutliveTheIframe_AndOnlySharedViewsReachOtherAgents()
    {
        var (site, _) = await SeedAsync();
        await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Post, "organizations", new { jsmId = "102", name = "Hooli", values = new { alpha = "second", gamma = 7 } });
        var table = (IFrameLocator app) => app.GetByRole(AriaRole.Table, new() { Name = "organizations found" });
        await using (var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "agent")))
        {
            var app = agent.App;
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Gamma" })).ToBeVisibleAsync();
            await app.GetByRole(AriaRole.Group, new() { Name = "Columns" }).GetByLabel("Gamma").First.UncheckAsync();
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Gamma" })).ToHaveCountAsync(0);

            // A filter the search index answers (the mirror follows the writes within moments: apply again until then).
            await app.GetByLabel("Filter by field").First.SelectOptionAsync(new SelectOptionValue { Label = "Alpha" });
            await app.GetByLabel("Filter value").First.FillAsync("first");
            var summary = app.GetByTestId("search-summary");
            for (var attempt = 0; attempt < 30 && (await summary.CountAsync() == 0 || (await summary.TextContentAsync())?.StartsWith("1 organizations", StringComparison.Ordinal) != true); attempt++)
            {
                await app.GetByRole(AriaRole.Button, new() { Name = "Apply filter" }).First.ClickAsync();
                await Task.Delay(300);
            }

            await Assertions.Expect(table(app)).ToContainTextAsync("Globex");
            await Assertions.Expect(table(app)).Not.ToContainTextAsync("Hooli");

            var views = app.GetByRole(AriaRole.Region, new() { Name = "Saved views" }).First;
            await views.GetByRole(AriaRole.Button, new() { Name = "Save as a new view" }).ClickAsync();
            var save = views.GetByRole(AriaRole.Form, new() { Name = "Save view" });
            await save.GetByLabel("View name").FillAsync("Alpha first");
            await save.GetByLabel("Share with every agent").CheckAsync();
            await save.GetByRole(AriaRole.Button, new() { Name = "Save view" }).ClickAsync();
            await Assertions.Expect(views.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved the view Alpha first, shared with every agent of the site.");
            await views.GetByRole(AriaRole.Button, new() { Name = "Save as a new view" }).ClickAsync();
            await save.GetByLabel("View name").FillAsync("Alpha first");
            await save.GetByRole(AriaRole.Button, new() { Name = "Save view" }).ClickAsync();
            await Assertions.Expect(views.GetByRole(AriaRole.Alert)).ToContainTextAsync("You already have a view with that name");
            await save.GetByLabel("View name").FillAsync("Just mine");
            await save.GetByRole(AriaRole.Button, new() { Name = "Save view" }).ClickAsync();
            await Assertions.Expect(views.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved the view Just mine.");
            await agent.ScreenshotAsync("directory-saved-views-agent-light");
        }

        // A new iframe (as after a reload): the column choice is back, no filter is applied until a view is picked.
        await using (var agent = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "agent")))
        {
            var app = agent.App;
            await Assertions.Expect(table(app)).ToContainTextAsync("Hooli");
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Alpha" })).ToBeVisibleAsync();
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Gamma" })).ToHaveCountAsync(0);
            await app.GetByLabel("Saved view", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Alpha first · shared by you" });
            await Assertions.Expect(app.GetByRole(AriaRole.List, new() { Name = "Active filters" })).ToContainTextAsync("Alpha contains first");
            await Assertions.Expect(table(app)).ToContainTextAsync("Globex");
            await Assertions.Expect(table(app)).Not.ToContainTextAsync("Hooli");
        }

        // Another agent (the site admin) can pick the shared view, never the private one, and cannot change it.
        await using (var other = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "directory", "admin")))
        {
            var app = other.App;
            var pick = app.GetByLabel("Saved view", new() { Exact = true });
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Gamma" })).ToBeVisibleAsync(); // the default columns: the agent's choice is theirs
            await Assertions.Expect(pick.Locator("option")).ToHaveTextAsync(["(none)", "Alpha first · shared"]);
            await pick.SelectOptionAsync(new SelectOptionValue { Label = "Alpha first · shared" });
            await Assertions.Expect(table(app)).Not.ToContainTextAsync("Hooli");
            await Assertions.Expect(table(app).GetByRole(AriaRole.Columnheader, new() { Name = "Gamma" })).ToHaveCountAsync(0); // the view brings its columns
            await Assertions.Expect(app.GetByRole(AriaRole.Button, new() { Name = "Update view" })).ToHaveCountAsync(0);
        }
    }

    [Fact]
    public async Task Configuration_AuditLog_ShowsEveryChange_AndNarrowsToValues()
    {
        var (site, _) = await SeedAsync();
        await using var admin = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "configuration", "admin"));
        var app = admin.App;
        await app.GetByRole(AriaRole.Tab, new() { Name = "Audit log" }).ClickAsync();
        var log = app.GetByRole(AriaRole.Table, new() { Name = "Audit log" });
        await Assertions.Expect(log).ToContainTextAsync("field.created");
        await Assertions.Expect(log).ToContainTextAsync("record.created");
        await admin.ScreenshotAsync("configuration-audit-log-admin-light");

        await ChooseAsync(app.Locator("#root"), "Show", "Values");
        await Assertions.Expect(log).Not.ToContainTextAsync("field.created");
        await Assertions.Expect(log).ToContainTextAsync("value.set");
        await Assertions.Expect(log).ToContainTextAsync("first"); // Globex's alpha, set at creation
    }

    private static async Task ChooseAsync(ILocator scope, string label, string option)
    {
        var input = scope.GetByLabel(label, new() { Exact = true }).First;
        await input.FocusAsync();
        await input.PressSequentiallyAsync(option);
        await input.Page.Keyboard.PressAsync("Enter");
    }
}
