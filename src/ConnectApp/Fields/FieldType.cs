namespace ConnectApp.Fields;

/// <summary>What a field holds. JSON and CSV names are kebab-case: text, paragraph, number, date, select, multi-select, ...</summary>
internal enum FieldType
{
    Text,
    Paragraph,
    Number,
    Date,
    Select,
    MultiSelect,
    Checkbox,
    Email,
    Url,
    Phone,
    User,
}

internal static class FieldTypes
{
    public static bool HasOptions(this FieldType type) => type is FieldType.Select or FieldType.MultiSelect;
}
