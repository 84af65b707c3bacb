package io.workstream.gateway;

import io.vertx.core.Context;
import io.workstream.bus.ProjectFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Hands each change event to every subscription of its project on one gateway instance, in order, a slice of
 * subscribers per event-loop turn: a project with thousands of subscribers never holds the event loop for long, so
 * replies and database answers handled on the same thread (a create's round trip crosses it several times) wait at
 * most one slice, not a whole fan-out. Events wait their turn behind the one being handed out, so each connection
 * still gets a project's events in the order they came. Confined to the instance's event loop.
 */
final class FanOut {

  private static final Logger LOG = LoggerFactory.getLogger(FanOut.class);
  /** Subscribers per turn: at a few microseconds each, well under a millisecond. */
  static final int SLICE = 128;

  /** One event on its way: {@code subscribers} as they were when it came; the next one to get it is {@code next}. */
  private static final class Delivery {
    final ProjectFrame frame;
    final List<ProjectSubscription> subscribers;
    int next;

    Delivery(ProjectFrame frame, List<ProjectSubscription> subscribers) {
      this.frame = frame;
      this.subscribers = subscribers;
    }
  }

  private final Context context;
  private final SubscriptionIndex index;
  private final ArrayDeque<Delivery> pending = new ArrayDeque<>();

  FanOut(Context context, SubscriptionIndex index) {
    this.context = context;
    this.index = index;
  }

  void deliver(ProjectFrame frame) {
    List<ProjectSubscription> subscribers = index.subscriptions(frame.tenantId(), frame.projectId());
    if (subscribers.isEmpty()) {
      return;
    }
    if (pending.isEmpty() && subscribers.size() <= SLICE) {
      // All at once, before the index can change: no copy.
      handOut(frame, subscribers, 0, subscribers.size());
      return;
    }
    // Subscriptions may come and go between slices: this event goes to those there when it came. One that left
    // since ignores it (it is suspended, its socket closed); one that came since reads it from the database (it
    // read the project's seq after this event was committed).
    pending.add(new Delivery(frame, List.copyOf(subscribers)));
    if (pending.size() == 1) {
      context.runOnContext(v -> continueDeliveries());
    }
  }

  private void continueDeliveries() {
    int room = SLICE;
    while (room > 0 && !pending.isEmpty()) {
      Delivery delivery = pending.peek();
      int end = Math.min(delivery.subscribers.size(), delivery.next + room);
      handOut(delivery.frame, delivery.subscribers, delivery.next, end);
      room -= end - delivery.next;
      delivery.next = end;
      if (end == delivery.subscribers.size()) {
        pending.poll();
      }
    }
    if (!pending.isEmpty()) {
      context.runOnContext(v -> continueDeliveries());
    }
  }

  private static void handOut(ProjectFrame frame, List<ProjectSubscription> subscribers, int from, int to) {
    for (int i = from; i < to; i++) {
      try {
        subscribers.get(i).offer(frame);
      } catch (RuntimeException e) {
        // One broken connection must not keep the event from the others.
        LOG.error("delivering a change event failed", kv("tenantId", frame.tenantId()), e);
      }
    }
  }
}
