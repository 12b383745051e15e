using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JiraSimulator.Demo;

namespace JiraSimulator;

/// <summary>
/// The local Jira host: one page per Connect surface that frames the app's module as Jira does — the module URL from
/// the installed descriptor with its context variables filled in, Jira's <c>xdm_e</c>/<c>cp</c>/<c>lic</c> parameters
/// and a signed <c>jwt</c> — and answers the app's bridge (src/bridge.ts) by postMessage: context tokens for the
/// chosen user, iframe resize, light or dark, and the JSM request REST reads the issue view makes. Switchable
/// between an admin, an agent and a customer.
/// </summary>
public static class HostPages
{
    /// <summary>A surface: the descriptor module type it frames, and how wide Jira shows it.</summary>
    public sealed record Surface(string Name, string Title, string ModuleType, string Width);

    public static readonly IReadOnlyList<Surface> Surfaces =
    [
        new("issue-view", "Issue view: Customer fields panel", "jiraIssueContexts", "380px"),
        new("organization", "JSM organization view", "serviceDeskOrganizationPanels", "720px"),
        new("portal-profile", "Portal: profile", "serviceDeskPortalProfilePanels", "640px"),
        new("portal-request", "Portal: request view", "serviceDeskPortalRequestViewPanels", "640px"),
        new("directory", "Customer directory (general page)", "generalPages", "100%"),
        new("configuration", "Settings: organization and customer fields (admin page)", "adminPages", "100%"),
    ];

    public static readonly IReadOnlyList<string> Roles = ["admin", "agent", "customer"];

    public static IEndpointRouteBuilder MapHostPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/host", (SiteDirectory sites) =>
        {
            var html = new StringBuilder("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Local Jira host</title><h1>Local Jira host</h1>");
            foreach (var site in sites.All.Where(s => s.App is not null))
            {
                html.Append(Invariant($"<h2>Site {Encode(site.Name)}</h2><ul>"));
                foreach (var surface in Surfaces)
                {
                    html.Append(Invariant($"<li>{Encode(surface.Title)}: "));
                    html.Append(string.Join(" · ", Roles.Select(r => Invariant($"<a href=\"/host/{Uri.EscapeDataString(site.Name)}/{surface.Name}?as={r}\">as {r}</a>"))));
                    html.Append("</li>");
                }

                html.Append("</ul>");
            }

            return Results.Content(html.ToString(), "text/html; charset=utf-8");
        });

        app.MapGet("/host/{name}/{surface}", (string name, string surface, HttpContext context, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { SharedSecret: not null, App: { } descriptor } site)
            {
                return Results.NotFound($"Site {name} has not installed the app.");
            }

            if (Surfaces.FirstOrDefault(s => s.Name == surface) is not { } page)
            {
                return Results.NotFound($"No surface {surface}; one of: {string.Join(", ", Surfaces.Select(s => s.Name))}.");
            }

            var q = context.Request.Query;
            var role = q["as"].ToString() is { Length: > 0 } r && Roles.Contains(r) ? r : page.ModuleType.StartsWith("serviceDeskPortal", StringComparison.Ordinal) ? "customer" : page.ModuleType == "adminPages" ? "admin" : "agent";
            var theme = q["theme"] == "dark" ? "dark" : "light";
            var lic = q["lic"].ToString() is "active" or "none" ? q["lic"].ToString() : null;
            var customer = q["customer"].ToString() is { Length: > 0 } c ? c : DefaultCustomer(site);
            var issue = q["issue"].ToString() is { Length: > 0 } i ? i : "DEMO-1";
            var reporter = q["reporter"].ToString() is { Length: > 0 } rep ? rep : customer;
            var participants = q["participants"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var organization = q["organization"].ToString() is { Length: > 0 } o ? o : "101";
            var accountId = role switch
            {
                "admin" => EnsureUser(site, DemoSeeder.AdminAccountId, SiteRole.Admin, "Demo Admin"),
                "agent" => EnsureUser(site, DemoSeeder.AgentAccountId, SiteRole.Agent, "Demo Agent"),
                _ => customer,
            };

            var module = descriptor.Json["modules"]?[page.ModuleType]?.AsArray().FirstOrDefault();
            var moduleUrl = module?["url"]?.GetValue<string>() ?? module?["target"]?["url"]?.GetValue<string>();
            if (moduleUrl is null)
            {
                return Results.NotFound($"The app's descriptor declares no {page.ModuleType} module.");
            }

            var variables = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["issue.key"] = issue,
                ["issue.id"] = "10001",
                ["project.key"] = issue.Split('-')[0],
                ["project.id"] = PermissionsCheck.ServiceDeskProjectId,
                ["organization.id"] = organization,
                ["request.key"] = issue,
                ["serviceDesk.id"] = "1",
            };
            var filled = System.Text.RegularExpressions.Regex.Replace(moduleUrl, "\\{([a-zA-Z.]+)\\}", m => Uri.EscapeDataString(variables.GetValueOrDefault(m.Groups[1].Value, string.Empty)));
            var hostOrigin = $"{context.Request.Scheme}://{context.Request.Host}";
            var extra = new List<string> { "xdm_e=" + Uri.EscapeDataString(hostOrigin), "xdm_c=channel-" + Uri.EscapeDataString(page.Name), "cp=" + Uri.EscapeDataString("/site/" + site.Name), "lic=" + (lic ?? "none") };
            if (lic is null)
            {
                extra.RemoveAt(extra.Count - 1); // licensing off: Jira adds no lic parameter
            }

            var pathAndQuery = filled + (filled.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', extra);
            var jwt = SiteTokens.Request(site, "GET", pathAndQuery, accountId);
            var src = descriptor.BaseUrl.ToString().TrimEnd('/') + pathAndQuery + "&jwt=" + Uri.EscapeDataString(jwt);
            var config = new JsonObject
            {
                ["src"] = src,
                ["tokenUrl"] = $"/admin/sites/{Uri.EscapeDataString(site.Name)}/context-token?accountId={Uri.EscapeDataString(accountId)}",
                ["theme"] = theme,
                ["issue"] = issue,
                ["reporter"] = reporter,
                ["participants"] = new JsonArray(participants.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
            };
            return Results.Content(Render(site, page, role, theme, lic, accountId, context.Request, config), "text/html; charset=utf-8");
        });
        return app;
    }

    private static string EnsureUser(SimulatedSite site, string accountId, SiteRole role, string name)
    {
        if (!site.Users.TryGetValue(accountId, out var user) || user.Role != role)
        {
            site.AddUser(accountId, role, name);
        }

        return accountId;
    }

    private static string DefaultCustomer(SimulatedSite site) =>
        site.Users.Values.Where(u => u.Role == SiteRole.Customer).Select(u => u.AccountId).Order(StringComparer.Ordinal).FirstOrDefault() ?? "557058:demo-customer-0001";

    private static string Render(SimulatedSite site, Surface page, string role, string theme, string? lic, string accountId, HttpRequest request, JsonObject config)
    {
        string Link(string key, string? value)
        {
            var query = request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
            if (value is null)
            {
                query.Remove(key);
            }
            else
            {
                query[key] = value;
            }

            return Encode($"/host/{Uri.EscapeDataString(site.Name)}/{page.Name}?" + string.Join('&', query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}")));
        }

        var dark = theme == "dark";
        var (bg, fg, nav, border, link) = dark ? ("#1D2125", "#B6C2CF", "#161A1D", "#A6C5E229", "#579DFF") : ("#FFFFFF", "#172B4D", "#F7F8F9", "#091E4224", "#0C66E4");
        var html = new StringBuilder();
        var css = Css.Replace("@bg", bg, StringComparison.Ordinal).Replace("@fg", fg, StringComparison.Ordinal).Replace("@nav", nav, StringComparison.Ordinal)
            .Replace("@border", border, StringComparison.Ordinal).Replace("@link", link, StringComparison.Ordinal).Replace("@width", page.Width, StringComparison.Ordinal);
        html.Append(Invariant($"""
            <!doctype html>
            <html lang="en" data-color-mode="{theme}">
            <head>
            <meta charset="utf-8">
            <title>{Encode(page.Title)} — {Encode(site.Name)} (local Jira host)</title>
            <style>{css}</style>
            </head>
            <body>
            <header>
            <strong>Jira ({Encode(site.Name)}) — local host</strong>
            <nav aria-label="Surfaces">
            """));
        foreach (var s in Surfaces)
        {
            var current = s.Name == page.Name ? " aria-current=\"page\"" : string.Empty;
            html.Append(Invariant($"<a href=\"/host/{Uri.EscapeDataString(site.Name)}/{s.Name}?as={role}&amp;theme={theme}\"{current}>{Encode(s.Name)}</a>"));
        }

        html.Append("</nav><nav aria-label=\"View as\">View as: ");
        foreach (var r in Roles)
        {
            html.Append(Invariant($"<a href=\"{Link("as", r)}\"{(r == role ? " aria-current=\"true\"" : string.Empty)}>{r}</a>"));
        }

        html.Append(Invariant($"</nav><nav aria-label=\"Theme and license\"><a href=\"{Link("theme", dark ? "light" : "dark")}\">{(dark ? "Light" : "Dark")} theme</a>"));
        html.Append(Invariant($"<a href=\"{Link("lic", lic == "none" ? "active" : "none")}\">lic={(lic == "none" ? "active" : "none")}</a><a href=\"{Link("lic", null)}\">licensing off</a></nav>"));
        html.Append(Invariant($"""
            </header>
            <main>
            <h1 style="font-size: 20px; margin: 0 0 4px">{Encode(page.Title)}</h1>
            <p style="margin: 0 0 12px">Signed in as <span id="host-user">{Encode(accountId)}</span> ({role}){(lic is null ? string.Empty : $", lic={lic}")}</p>
            <div class="frame"><iframe id="app-frame" title="{Encode(page.Title)}"></iframe></div>
            </main>
            <script type="application/json" id="host-config">{config.ToJsonString()}</script>
            <script>
            {Script}
            </script>
            </body>
            </html>
            """));
        return html.ToString();
    }

    private const string Css = """
        body { margin: 0; font: 14px/1.43 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; background: @bg; color: @fg; }
        header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: @nav; border-bottom: 1px solid @border; flex-wrap: wrap; }
        header strong { margin-right: 8px; }
        nav a, header a { color: @link; margin-right: 10px; }
        a[aria-current] { font-weight: 700; color: @fg; }
        a:focus-visible { outline: 2px solid @link; outline-offset: 2px; }
        main { padding: 16px; }
        .frame { width: @width; max-width: 100%; border: 1px solid @border; border-radius: 3px; }
        iframe { display: block; width: 100%; height: 150px; border: 0; }
        """;

    /// <summary>The host's side of the bridge; it answers only the framed app's window, from the app's origin.</summary>
    private const string Script = """
        const cfg = JSON.parse(document.getElementById('host-config').textContent);
        const frame = document.getElementById('app-frame');
        const appOrigin = new URL(cfg.src).origin;
        window.connectHost = { tokens: 0, resizes: 0 };
        function answer(url) {
          const m = /^\/rest\/servicedeskapi\/request\/([^/?]+)(\/participant)?/.exec(url);
          if (m && decodeURIComponent(m[1]) === cfg.issue) {
            return m[2]
              ? { size: cfg.participants.length, start: 0, isLastPage: true, values: cfg.participants.map((a) => ({ accountId: a })) }
              : { issueKey: cfg.issue, reporter: { accountId: cfg.reporter } };
          }
          throw new Error('The local Jira host does not simulate ' + url);
        }
        window.addEventListener('message', async (e) => {
          if (e.source !== frame.contentWindow || e.origin !== appOrigin) return;
          const m = e.data;
          if (!m || m.connectapp !== 1) return;
          const reply = (result, error) => frame.contentWindow.postMessage({ connectapp: 1, id: m.id, result, error }, appOrigin);
          try {
            if (m.method === 'resize') {
              window.connectHost.resizes++;
              frame.style.height = Math.max(50, Math.min(Number(m.args.height) || 0, 20000)) + 'px';
            } else if (m.method === 'getToken') {
              const r = await fetch(cfg.tokenUrl);
              if (!r.ok) throw new Error('The host could not make a context token (' + r.status + ')');
              window.connectHost.tokens++;
              reply(await r.text());
            } else if (m.method === 'getColorMode') {
              reply(cfg.theme);
            } else if (m.method === 'request') {
              reply(answer(String(m.args.url)));
            } else {
              reply(undefined, 'Unknown bridge method ' + m.method);
            }
          } catch (err) {
            reply(undefined, String(err && err.message || err));
          }
        });
        frame.src = cfg.src;
        """;

    private static string Encode(string s) => WebUtility.HtmlEncode(s);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
