using ArchUnitNET.Loader;

namespace ConnectApp.Tests.Architecture;

public sealed class FolderOrderTests
{
    [Fact]
    public void ProductFolders_DependOnlyOnFoldersBeforeThem()
    {
        var violations = FolderOrder.Violations(FolderOrder.App.Value, "ConnectApp", FolderOrder.ConnectApp);
        Assert.True(violations.Count == 0, "Dependencies against the folder order (docs/adr/0007):\n" + string.Join('\n', violations));

        // Not vacuous: the same check over the real assembly, with the order reversed, finds the references that exist.
        var reversed = FolderOrder.Violations(FolderOrder.App.Value, "ConnectApp", [.. FolderOrder.ConnectApp.Reverse()]);
        Assert.Contains(reversed, v => v.StartsWith("Records → Fields", StringComparison.Ordinal));
        Assert.Contains(reversed, v => v.StartsWith("Csv → Records", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryProductFolder_HasAPlaceInTheOrder()
    {
        var unplaced = FolderOrder.Unplaced(FolderOrder.App.Value, "ConnectApp", FolderOrder.ConnectApp);
        Assert.True(unplaced.Count == 0, "Folders missing from FolderOrder.ConnectApp (place each deliberately): " + string.Join(", ", unplaced));
    }

    /// <summary>Each folder's entry points are in one place, named after it: <c>Xxx/XxxFeature.cs</c>.</summary>
    [Fact]
    public void EveryProductFolder_HasOneFeatureClass()
    {
        var types = typeof(global::ConnectApp.Api.Caller).Assembly.GetTypes();
        var missing = FolderOrder.ConnectApp.Except(FolderOrder.Generated).Where(folder => types.All(t => t.FullName != $"ConnectApp.{folder}.{folder}Feature")).ToList();
        Assert.True(missing.Count == 0, "Folders without an XxxFeature class: " + string.Join(", ", missing));
    }

    /// <summary>The check itself: a deliberate wrong-way reference (see WrongWay below) is found, and named.</summary>
    [Fact]
    public void WrongWayReference_IsReported()
    {
        var architecture = new ArchLoader().LoadAssemblies(typeof(WrongWay.Low.Plumbing).Assembly).Build();
        var order = new[] { "Low", "High" };

        var violations = FolderOrder.Violations(architecture, typeof(WrongWay.Low.Plumbing).Namespace![..^4], order);

        var violation = Assert.Single(violations);
        Assert.Contains("Low → High", violation, StringComparison.Ordinal);
        Assert.Contains("Low.Plumbing uses High.Feature", violation, StringComparison.Ordinal);
        Assert.Empty(FolderOrder.Violations(architecture, typeof(WrongWay.Low.Plumbing).Namespace![..^4], ["High", "Low"]));
    }
}
