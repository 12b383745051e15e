using ConnectApp.Problems;

namespace ConnectApp.Fields;

/// <summary>Problems of field definitions and their options.</summary>
internal static class FieldProblems
{
    public static readonly ProblemType VersionMismatch = new(412, "field.version_mismatch");
    public static readonly ProblemType KeyTaken = new(409, "field.key_taken");
    public static readonly ProblemType Limit = new(409, "field.limit");
    public static readonly ProblemType OptionLimit = new(409, "field.option_limit");
    public static readonly ProblemType TypeChangeLossy = new(409, "field.type_change_lossy");
    public static readonly ProblemType SameType = new(400, "field.same_type");
    public static readonly ProblemType NoOptions = new(400, "field.no_options");
    public static readonly ProblemType ReorderMismatch = new(400, "field.reorder_mismatch");
    public static readonly ProblemType OptionReorderMismatch = new(400, "option.reorder_mismatch");
}
