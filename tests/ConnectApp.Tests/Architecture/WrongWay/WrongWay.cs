// A deliberate wrong-way reference for FolderOrderTests.WrongWayReference_IsReported: "Low" comes first in that
// test's order, yet uses "High" — the kind of import the folder-order check must refuse in src/ConnectApp.
namespace ConnectApp.Tests.Architecture.WrongWay.High
{
    internal sealed class Feature
    {
        public static int Answer => 42;
    }
}

namespace ConnectApp.Tests.Architecture.WrongWay.Low
{
    internal static class Plumbing
    {
        public static int Ask() => High.Feature.Answer;
    }
}
