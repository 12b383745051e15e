using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace ConnectApp.Tests.Architecture;

/// <summary>
/// The order of the product's feature folders (docs/adr/0007): a folder may use the folders before it, never one
/// after it. Checked on the compiled assembly (every type reference in signatures and method bodies, read by
/// ArchUnitNET), so a fully qualified name or a `using` alias cannot slip past it.
/// </summary>
public static class FolderOrder
{
    /// <summary>Lowest first. A new folder must be placed here deliberately (FolderOrderTests fails until it is).</summary>
    public static readonly string[] ConnectApp =
    [
        "Hosting", // configuration, process roles, validated options
        "Problems", // the one problem writer, declared problem types
        "Api", // request plumbing: Caller, roles as values, ETags, paging, claim names
        "Operability", // logging, health endpoints, security headers
        "Secrets",
        "Persistence",
        "Messaging",
        "Tenants", // Connect lifecycle and the tenant store
        "Jira", // calls to tenants' Jira sites
        "Roles", // roles from Jira's permission API
        "Licensing", // Marketplace licensing: unlicensed sites read but do not change
        "Identity",
        "Descriptor",
        "Audit",
        "Fields",
        "Records",
        "Outbox", // the one background-work path: outbox rows, message contracts, relay
        "Search", // the directory's index, kept by the mirror consumers
        "Views", // agents' saved directory views and column choices
        "Memberships", // membership edits written back to JSM, email-domain rules
        "Sync", // the JSM directory sync: organizations, customers and memberships from the tenant's JSM
        "ApiTokens",
        "Csv",
        "Export", // an admin's copy of all of the site's data
        "Retention", // purges after uninstall or inactivity, deletion on request; Quartz decides when
        "Jql", // customer and organization values in JQL: aliases (dynamic modules) and issue properties
        "Webhooks", // Jira webhooks: recorded and queued by the web role, acted on by the worker
        "CompiledModel", // EF Core's compiled model of every feature's tables (generated: dotnet ef dbcontext optimize)
    ];

    /// <summary>Folders of generated code: placed in the order like any other, but with no XxxFeature class of their own.</summary>
    public static readonly string[] Generated = ["CompiledModel"];

    public static Lazy<ArchUnitNET.Domain.Architecture> App { get; } =
        new(() => new ArchLoader().LoadAssemblies(typeof(global::ConnectApp.Api.Caller).Assembly).Build());

    /// <summary>"From.Type → To.Type" for every reference from a folder to a later one.</summary>
    public static IReadOnlyList<string> Violations(ArchUnitNET.Domain.Architecture architecture, string rootNamespace, IReadOnlyList<string> order)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in architecture.Types)
        {
            var from = FolderOf(type, rootNamespace, order);
            if (from < 0)
            {
                continue;
            }

            foreach (var dependency in type.Dependencies)
            {
                var to = FolderOf(dependency.Target, rootNamespace, order);
                if (to > from)
                {
                    violations.Add($"{order[from]} → {order[to]}: {Short(type, rootNamespace)} uses {Short(dependency.Target, rootNamespace)}");
                }
            }
        }

        return [.. violations];
    }

    /// <summary>Folders (first namespace segment under the root) that hold types but are not in the order.</summary>
    public static IReadOnlyList<string> Unplaced(ArchUnitNET.Domain.Architecture architecture, string rootNamespace, IReadOnlyList<string> order) =>
        architecture.Types
            .Select(t => t.Namespace?.FullName is { } ns ? Folder(ns, rootNamespace) : null)
            .Where(f => f is not null && !order.Contains(f))
            .Select(f => f!)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    private static int FolderOf(IType type, string rootNamespace, IReadOnlyList<string> order) =>
        type.Namespace?.FullName is { } ns && Folder(ns, rootNamespace) is { } folder ? order.ToList().IndexOf(folder) : -1;

    private static string? Folder(string ns, string rootNamespace) =>
        ns.StartsWith(rootNamespace + ".", StringComparison.Ordinal) ? ns[(rootNamespace.Length + 1)..].Split('.')[0] : null;

    private static string Short(IType type, string rootNamespace) => type.FullName.Replace(rootNamespace + ".", string.Empty, StringComparison.Ordinal);
}
