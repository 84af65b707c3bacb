package io.workstream.testing;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;

import java.util.List;
import java.util.Random;

/**
 * Arbitrary protobuf messages of any type, driven by its descriptor: every field of every message (present or not,
 * one case of each oneof, repeated fields of 0..3 elements, strings of any Unicode text), so new fields are covered
 * without touching the tests.
 */
public final class RandomMessages {

  private RandomMessages() {
  }

  @SuppressWarnings("unchecked")
  public static <T extends Message> T random(T prototype, long seed) {
    return (T) fill(prototype.newBuilderForType(), new Random(seed), 0).build();
  }

  private static Message.Builder fill(Message.Builder builder, Random random, int depth) {
    Descriptor type = builder.getDescriptorForType();
    for (OneofDescriptor oneof : type.getRealOneofs()) {
      if (random.nextInt(4) > 0) {
        List<FieldDescriptor> cases = oneof.getFields();
        set(builder, cases.get(random.nextInt(cases.size())), random, depth);
      }
    }
    for (FieldDescriptor field : type.getFields()) {
      if (field.getRealContainingOneof() != null || random.nextInt(3) == 0) {
        continue;
      }
      set(builder, field, random, depth);
    }
    return builder;
  }

  private static void set(Message.Builder builder, FieldDescriptor field, Random random, int depth) {
    if (field.isRepeated()) {
      int count = depth > 3 ? 0 : random.nextInt(4);
      for (int i = 0; i < count; i++) {
        builder.addRepeatedField(field, value(builder, field, random, depth));
      }
    } else if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || depth < 4) {
      builder.setField(field, value(builder, field, random, depth));
    }
  }

  private static Object value(Message.Builder builder, FieldDescriptor field, Random random, int depth) {
    return switch (field.getJavaType()) {
      case STRING -> text(random);
      case LONG -> random.nextInt(3) == 0 ? random.nextLong() : (long) random.nextInt(1_000_000);
      case INT -> random.nextInt(3) == 0 ? random.nextInt() : random.nextInt(1_000);
      case BOOLEAN -> random.nextBoolean();
      case ENUM -> {
        List<EnumValueDescriptor> values = field.getEnumType().getValues();
        yield values.get(random.nextInt(values.size()));
      }
      case MESSAGE -> fill(builder.newBuilderForField(field), random, depth + 1).build();
      default -> throw new IllegalStateException("no generator for " + field.getJavaType());
    };
  }

  /** Any Unicode text: controls, non-BMP characters, nothing a Java string cannot encode as UTF-8. */
  public static String text(Random random) {
    int length = random.nextInt(5) == 0 ? 0 : random.nextInt(40);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < length; i++) {
      int codePoint;
      do {
        codePoint = switch (random.nextInt(4)) {
          case 0 -> random.nextInt(0x80);
          case 1 -> random.nextInt(0x800);
          case 2 -> random.nextInt(0x10000);
          default -> random.nextInt(0x110000);
        };
      } while (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE);
      text.appendCodePoint(codePoint);
    }
    return text.toString();
  }
}
