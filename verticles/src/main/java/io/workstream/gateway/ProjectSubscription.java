package io.workstream.gateway;

import io.vertx.core.buffer.Buffer;
import io.workstream.bus.Frames;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.proto.History;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ProjectCursor;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;

/**
 * One connection's subscription to one project: each seq once, in order, however the events arrive.
 *
 * <ul>
 *   <li>PENDING — the Subscribe is not answered yet: live events are held (a bounded number).</li>
 *   <li>CATCHING_UP — history is read a page at a time and written only as fast as the socket takes it; live events
 *   are held meanwhile. When a page comes back empty the subscription is live.</li>
 *   <li>LIVE — live events go out as they come; a gap (an event whose predecessor never came) sends it back to
 *   catching up from the history.</li>
 *   <li>SUSPENDED — the subscriber lagged (or the history lost what it needed): nothing more until it subscribes
 *   again with {@code after_seq}.</li>
 * </ul>
 * Confined to the connection's event loop.
 */
final class ProjectSubscription {

  enum State { PENDING, CATCHING_UP, LIVE, SUSPENDED }

  static final int HELD_MAX = 1_000;

  private final OutboundQueue out;
  private final HistoryReader history;
  private final String projectId;
  private final int pageSize;
  private final ArrayDeque<ProjectFrame> held = new ArrayDeque<>();
  private final ArrayDeque<ChangeEvent> page = new ArrayDeque<>();
  private State state = State.PENDING;
  private long lastSeq;
  private boolean reading;

  ProjectSubscription(OutboundQueue out, HistoryReader history, String projectId, int pageSize) {
    this.out = out;
    this.history = history;
    this.projectId = projectId;
    this.pageSize = pageSize;
  }

  State state() {
    return state;
  }

  /**
   * The Subscribe was answered: catch up from {@code afterSeq} starting with {@code firstPage}, or (no cursor, or
   * one the history no longer reaches) go live after {@code currentSeq}.
   */
  void start(long afterSeq, boolean recovered, long currentSeq, List<ChangeEvent> firstPage) {
    if (state != State.PENDING) {
      return;
    }
    if (afterSeq >= 0 && recovered) {
      lastSeq = afterSeq;
      state = State.CATCHING_UP;
      page.addAll(firstPage);
      pump();
    } else {
      lastSeq = currentSeq;
      goLive();
    }
  }

  /** A live event of this project. */
  void offer(ProjectFrame frame) {
    switch (state) {
      case PENDING, CATCHING_UP -> hold(frame);
      case LIVE -> {
        if (frame.seq() == lastSeq + 1) {
          deliver(frame.seq(), frame.frame());
        } else if (frame.seq() > lastSeq + 1) {
          hold(frame);
          catchUp();
        }
      }
      case SUSPENDED -> {
      }
    }
  }

  /**
   * Stops: the subscriber fell behind (events from {@code firstDroppedSeq} on were dropped) or is gone. Returns the
   * cursor to report: the last seq that went out.
   */
  ProjectCursor suspend(Long firstDroppedSeq) {
    if (firstDroppedSeq != null) {
      lastSeq = Math.min(lastSeq, firstDroppedSeq - 1);
    }
    state = State.SUSPENDED;
    held.clear();
    page.clear();
    return ProjectCursor.newBuilder().setProjectId(projectId).setAfterSeq(lastSeq).build();
  }

  /**
   * The history no longer reaches where this subscription got to (pruned meanwhile) or could not be read: it stops,
   * and the client is told where, as if it had lagged. Only a subscription still catching up gets here, so one its
   * connection still holds (every other one was suspended first).
   */
  private void lose() {
    out.send(Envelopes.frame(Envelopes.lagged(List.of(suspend(null)))));
  }

  private void hold(ProjectFrame frame) {
    if (held.size() == HELD_MAX) {
      held.pollFirst();  // a gap the history will fill
    }
    held.add(frame);
  }

  private void goLive() {
    state = State.LIVE;
    List<ProjectFrame> early = held.stream().sorted(Comparator.comparingLong(ProjectFrame::seq)).toList();
    held.clear();
    for (ProjectFrame frame : early) {
      if (state == State.LIVE) {
        offer(frame);
      } else if (state == State.CATCHING_UP) {
        held.add(frame);
      }
    }
  }

  private void catchUp() {
    state = State.CATCHING_UP;
    pump();
  }

  /** Writes the page while the socket has room; reads the next page when it is done; goes live at the end. */
  private void pump() {
    if (state != State.CATCHING_UP) {
      return;
    }
    while (!page.isEmpty() && out.writable()) {
      ChangeEvent event = page.poll();
      if (event.getSeq() == lastSeq + 1) {
        deliver(event.getSeq(), Frames.changeEvent(event));
      }
    }
    if (!page.isEmpty()) {
      out.whenWritable(this::pump);
      return;
    }
    if (!held.isEmpty() && held.stream().anyMatch(f -> f.seq() == lastSeq + 1)) {
      goLive();
      return;
    }
    if (reading) {
      return;
    }
    reading = true;
    history.read(projectId, lastSeq, pageSize).onComplete(result -> {
      reading = false;
      if (state != State.CATCHING_UP) {
        return;
      }
      if (result.failed()) {
        lose();
        return;
      }
      History next = result.result();
      if (next.getEventsCount() == 0) {
        if (next.getCurrentSeq() <= lastSeq) {
          goLive();
        } else {
          lose();
        }
      } else if (!next.getRecovered()) {
        lose();
      } else {
        page.addAll(next.getEventsList());
        pump();
      }
    });
  }

  private void deliver(long seq, Buffer frame) {
    lastSeq = seq;
    out.event(projectId, seq, frame);
  }
}
