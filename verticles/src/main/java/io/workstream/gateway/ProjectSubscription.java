package io.workstream.gateway;

import io.vertx.core.buffer.Buffer;
import io.workstream.bus.FollowResult;
import io.workstream.bus.ProjectFrame;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One connection's subscription to one project. Until the broadcast has answered the Subscribe (current seq,
 * replayed history), live events are held; then the replay goes out, then the held events that follow it, then
 * live ones — each seq once, in order.
 */
final class ProjectSubscription {

  private long lastSeq;
  private List<ProjectFrame> held = new ArrayList<>();

  /** A live event: sent unless it was already (replayed or seen). */
  void offer(ProjectFrame frame, Consumer<Buffer> out) {
    if (held != null) {
      held.add(frame);
    } else if (frame.seq() > lastSeq) {
      lastSeq = frame.seq();
      out.accept(frame.frame());
    }
  }

  /**
   * Goes live: sends the replayed history after {@code afterSeq} when it could be recovered (otherwise continues
   * after the current seq), then what was held meanwhile.
   */
  void start(long afterSeq, FollowResult result, Consumer<Buffer> out) {
    if (afterSeq >= 0 && result.recovered()) {
      lastSeq = afterSeq;
      for (ProjectFrame frame : result.replay()) {
        if (frame.seq() > lastSeq) {
          lastSeq = frame.seq();
          out.accept(frame.frame());
        }
      }
    } else {
      lastSeq = result.currentSeq();
    }
    List<ProjectFrame> early = held;
    held = null;
    early.forEach(frame -> offer(frame, out));
  }

  long lastSeq() {
    return lastSeq;
  }
}
