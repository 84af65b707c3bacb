package io.workstream.gateway;

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
 *   <li>PENDING — the Subscribe is not answered yet: live events are held.</li>
 *   <li>CATCHING_UP — history comes a page at a time (the connection asks for pages for all its subscriptions
 *   together, one page in hand at a time) and is written only as fast as the socket takes it; live events are held
 *   meanwhile. When the history has nothing after it the subscription is live.</li>
 *   <li>LIVE — live events go out as they come; a gap (an event whose predecessor never came) sends it back to
 *   catching up from the history.</li>
 *   <li>SUSPENDED — the subscriber lagged (or the history lost what it needed): nothing more until it subscribes
 *   again with {@code after_seq}.</li>
 * </ul>
 * Held events count against the connection's {@link ConnectionBudget}: one that does not fit stops the subscription
 * with a Lagged (PROTOCOL.md: the client recovers with {@code after_seq}) instead of being held. Confined to the
 * connection's event loop.
 */
final class ProjectSubscription {

  enum State { PENDING, CATCHING_UP, LIVE, SUSPENDED }

  /** Where a subscription catching up asks for its next page; the answer comes to {@link #page}. */
  @FunctionalInterface
  interface Pages {
    void request(ProjectSubscription subscription);
  }

  private final OutboundQueue out;
  private final ConnectionBudget budget;
  private final Pages pages;
  private final String projectId;
  // Sized for a live subscription, which holds nothing (16 slots by default: 64 bytes more each); they grow as needed.
  private final ArrayDeque<ProjectFrame> held = new ArrayDeque<>(1);
  private final ArrayDeque<ChangeEvent> page = new ArrayDeque<>(1);
  private Runnable pageDone;
  private State state = State.PENDING;
  private long lastSeq;
  /**
   * The project's current seq as of the last page read (unknown: MAX_VALUE). Events after it come live (the
   * subscription held them from before that read), so once this far it is live without another read.
   */
  private long historyCurrentSeq = Long.MAX_VALUE;
  private boolean askedForPage;
  private boolean overflowed;

  ProjectSubscription(OutboundQueue out, ConnectionBudget budget, Pages pages, String projectId) {
    this.out = out;
    this.budget = budget;
    this.pages = pages;
    this.projectId = projectId;
  }

  State state() {
    return state;
  }

  String projectId() {
    return projectId;
  }

  /** The last seq that went out (while catching up: the cursor of the next page). */
  long lastSeq() {
    return lastSeq;
  }

  /**
   * The Subscribe was answered: catch up from {@code afterSeq} starting with {@code first} (its events, if any, are a
   * part of a shared page: {@code done} runs once they are written), or (no cursor, or one the history no longer
   * reaches) go live after {@code currentSeq}.
   */
  void start(long afterSeq, boolean recovered, long currentSeq, History first, Runnable done) {
    if (state != State.PENDING) {
      done.run();
      return;
    }
    boolean catchUp = afterSeq >= 0 && recovered;
    lastSeq = catchUp ? afterSeq : currentSeq;
    if (overflowed) {
      // Live events came faster than the connection could hold them before it was even answered.
      done.run();
      lose();
    } else if (catchUp) {
      state = State.CATCHING_UP;
      take(first, done);
    } else {
      done.run();
      goLive();
    }
  }

  /** The next page of history asked for with {@link Pages#request}; {@code done} runs once it is written. */
  void page(History next, Runnable done) {
    askedForPage = false;
    if (state != State.CATCHING_UP) {
      done.run();
    } else if (!next.getRecovered()) {
      done.run();
      lose();
    } else if (next.getEventsCount() == 0 && next.getCurrentSeq() <= lastSeq) {
      done.run();
      goLive();
    } else {
      // Events, or none this time because the page was full with other projects' (asked for again).
      take(next, done);
    }
  }

  /** The page asked for could not be read: this subscription stops, as if it had lagged. */
  void pageFailed() {
    askedForPage = false;
    if (state == State.CATCHING_UP) {
      lose();
    }
  }

  /** A live event of this project. */
  void offer(ProjectFrame frame) {
    switch (state) {
      case PENDING -> {
        if (!overflowed) {
          hold(frame);
        }
      }
      case CATCHING_UP -> hold(frame);
      case LIVE -> {
        if (frame.seq() == lastSeq + 1) {
          lastSeq = frame.seq();
          out.event(frame);
        } else if (frame.seq() > lastSeq + 1 && hold(frame)) {
          state = State.CATCHING_UP;
          historyCurrentSeq = Long.MAX_VALUE;
          pump();
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
    clearHeld();
    while (!page.isEmpty()) {
      budget.history(-page.poll().getSerializedSize());
    }
    pageWritten();
    return ProjectCursor.newBuilder().setProjectId(projectId).setAfterSeq(lastSeq).build();
  }

  /**
   * The subscription cannot go on (the history no longer reaches where it got to, could not be read, or live events
   * came faster than the connection may hold): it stops, and the client is told where, as if it had lagged.
   */
  private void lose() {
    out.send(Envelopes.frame(Envelopes.lagged(List.of(suspend(null)))));
  }

  /** Holds a live event if the connection has room for it; otherwise the subscription lags. */
  private boolean hold(ProjectFrame frame) {
    if (budget.tryTake(frame.frame().length())) {
      held.add(frame);
      return true;
    }
    if (state == State.PENDING) {
      overflowed = true;
      clearHeld();
    } else {
      lose();
    }
    return false;
  }

  private void clearHeld() {
    while (!held.isEmpty()) {
      budget.give(held.poll().frame().length());
    }
  }

  private void take(History next, Runnable done) {
    historyCurrentSeq = next.getCurrentSeq();
    for (ChangeEvent event : next.getEventsList()) {
      page.add(event);
      budget.history(event.getSerializedSize());
    }
    pageDone = done;
    pump();
  }

  private void pageWritten() {
    Runnable done = pageDone;
    pageDone = null;
    if (done != null) {
      done.run();
    }
  }

  private void goLive() {
    state = State.LIVE;
    List<ProjectFrame> early = held.stream().sorted(Comparator.comparingLong(ProjectFrame::seq)).toList();
    clearHeld();
    for (ProjectFrame frame : early) {
      if (state == State.LIVE) {
        offer(frame);
      } else if (state == State.CATCHING_UP) {
        hold(frame);
      }
    }
  }

  /** Writes the page while the socket has room; asks for the next page when it is done; goes live at the end. */
  private void pump() {
    if (state != State.CATCHING_UP) {
      return;
    }
    while (!page.isEmpty() && out.writable()) {
      ChangeEvent event = page.poll();
      budget.history(-event.getSerializedSize());
      if (event.getSeq() == lastSeq + 1) {
        lastSeq = event.getSeq();
        out.event(projectId, lastSeq, Frames.changeEvent(event));
      }
    }
    if (!page.isEmpty()) {
      out.whenWritable(this::pump);
      return;
    }
    pageWritten();
    if (state != State.CATCHING_UP) {
      return;
    }
    if (lastSeq >= historyCurrentSeq || held.stream().anyMatch(f -> f.seq() == lastSeq + 1)) {
      goLive();
    } else if (!askedForPage) {
      askedForPage = true;
      pages.request(this);
    }
  }
}
