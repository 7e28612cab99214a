using System.Buffers.Binary;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// Just enough of the protobuf wire format to read an OTLP export without its generated classes (the OTLP proto
/// package is not served here): the fields of one message, by number, as raw bytes or numbers.
/// </summary>
internal static class Protobuf
{
    public readonly record struct Field(int Number, int WireType, ulong Value, ReadOnlyMemory<byte> Bytes)
    {
        public double Double => BitConverter.Int64BitsToDouble((long)Value);

        public string Text => System.Text.Encoding.UTF8.GetString(Bytes.Span);
    }

    public static List<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        int i = 0;
        ReadOnlySpan<byte> span = message.Span;
        while (i < span.Length)
        {
            ulong key = Varint(span, ref i);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    fields.Add(new(number, wire, Varint(span, ref i), default));
                    break;
                case 1:
                    fields.Add(new(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(span[i..]), default));
                    i += 8;
                    break;
                case 2:
                    int length = (int)Varint(span, ref i);
                    fields.Add(new(number, wire, 0, message.Slice(i, length)));
                    i += length;
                    break;
                case 5:
                    fields.Add(new(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(span[i..]), default));
                    i += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire} at {i}");
            }
        }

        return fields;
    }

    /// <summary>The messages (or strings) in field <paramref name="number"/>.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.WireType == 2).Select(f => f.Bytes);

    /// <summary>A packed repeated double field.</summary>
    public static double[] PackedDoubles(ReadOnlyMemory<byte> message, int number) =>
        [.. Messages(message, number).SelectMany(bytes => Enumerable.Range(0, bytes.Length / 8)
            .Select(k => BinaryPrimitives.ReadDoubleLittleEndian(bytes.Span[(k * 8)..])))];

    private static ulong Varint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = span[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
