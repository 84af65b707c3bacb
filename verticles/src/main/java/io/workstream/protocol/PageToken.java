package io.workstream.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;

/**
 * The opaque {@code page_token} of GetWorkItems: the (updated_at_ms, id) of the last item of the previous page.
 * Pages are ordered by that pair, so an item updated while a client pages moves forward and is seen again, never lost.
 */
public record PageToken(long updatedAtMs, UUID id) {

  public static final PageToken FIRST = new PageToken(Long.MIN_VALUE, new UUID(Long.MIN_VALUE, Long.MIN_VALUE));

  private static final String PREFIX = "v1:";

  public String encode() {
    String raw = PREFIX + updatedAtMs + ":" + id;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a token; an empty one means the first page. */
  public static PageToken decode(String token) {
    if (token == null || token.isEmpty()) {
      return FIRST;
    }
    String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    if (!raw.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not a page token");
    }
    int colon = raw.indexOf(':', PREFIX.length());
    if (colon < 0) {
      throw new IllegalArgumentException("not a page token");
    }
    long updatedAtMs = Long.parseLong(raw.substring(PREFIX.length(), colon));
    UUID id = UUID.fromString(raw.substring(colon + 1));
    return new PageToken(updatedAtMs, id);
  }

  /** Whether {@code token} decodes. */
  public static boolean isValid(String token) {
    try {
      decode(token);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
