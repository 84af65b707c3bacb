package io.workstream.broadcast;

import io.workstream.protocol.v1.ChangeEvent;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One project's change events on this node, put back in {@code seq} order: events that arrive early wait in
 * {@code pending} until the ones before them arrive (or are read from the history), so the gateway instances that
 * follow the project see 1, 2, 3… with no gap and no repeat, whatever order the cluster delivered them in.
 * Confined to the broadcast verticle's event loop.
 */
final class ProjectStream {

  static final long NOT_READY = -1;

  final String tenantId;
  final String projectId;
  /** Node-local addresses of the gateway instances with subscribers of this project. */
  final Set<String> gateways = new HashSet<>();
  private final TreeMap<Long, ChangeEvent> pending = new TreeMap<>();
  private long lastSeq = NOT_READY;
  long gapTimer = -1;
  /** Whether a read from the history is filling this stream (the periodic repair does not start a second one). */
  boolean filling;

  ProjectStream(String tenantId, String projectId) {
    this.tenantId = tenantId;
    this.projectId = projectId;
  }

  long lastSeq() {
    return lastSeq;
  }

  boolean ready() {
    return lastSeq != NOT_READY;
  }

  /** Starts emitting after {@code currentSeq} (read from the database); earlier arrivals that follow it go out now. */
  void start(long currentSeq, Consumer<ChangeEvent> emit) {
    lastSeq = currentSeq;
    drain(emit);
  }

  /** Takes one event; emits it and any waiting successors when it is the next one. */
  void accept(ChangeEvent event, Consumer<ChangeEvent> emit) {
    if (event.getSeq() <= lastSeq) {
      return;
    }
    pending.put(event.getSeq(), event);
    if (ready()) {
      drain(emit);
    }
  }

  /** Whether events wait behind a missing one. */
  boolean hasGap() {
    return ready() && !pending.isEmpty();
  }

  /** The seq just before the first waiting event: the end of the gap. */
  long gapEnd() {
    return pending.firstKey() - 1;
  }

  /** The history could not fill the gap: give up on the missing events and go on after them. */
  void skipGap(Consumer<ChangeEvent> emit) {
    if (!pending.isEmpty()) {
      lastSeq = pending.firstKey() - 1;
      drain(emit);
    }
  }

  private void drain(Consumer<ChangeEvent> emit) {
    while (!pending.isEmpty() && pending.firstKey() <= lastSeq + 1) {
      ChangeEvent next = pending.pollFirstEntry().getValue();
      if (next.getSeq() == lastSeq + 1) {
        lastSeq = next.getSeq();
        emit.accept(next);
      }
    }
  }
}
