package io.workstream.gateway;

import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;

/**
 * Flushes the sockets of one gateway instance once per event-loop turn: everything written to a socket while the
 * event loop works through what is queued (several change events at a burst, a reply and the events behind it) goes
 * out in one system call instead of one per message. The flush runs as soon as the event loop gets to it, so a lone
 * message waits only for the tasks already queued ahead of it. Confined to the instance's event loop.
 */
final class Flusher {

  private final Context context;
  private List<WebSocketWire> unflushed = new ArrayList<>();
  private List<WebSocketWire> flushing = new ArrayList<>();

  Flusher(Context context) {
    this.context = context;
  }

  /** Called once by a wire when it gets its first unflushed message. */
  void flushLater(WebSocketWire wire) {
    if (unflushed.isEmpty()) {
      context.runOnContext(v -> flush());
    }
    unflushed.add(wire);
  }

  private void flush() {
    // A flush can make a socket writable and so write more (to this list, flushed next turn): iterate a swapped one.
    List<WebSocketWire> wires = unflushed;
    unflushed = flushing;
    flushing = wires;
    for (WebSocketWire wire : wires) {
      wire.flush();
    }
    wires.clear();
  }
}
