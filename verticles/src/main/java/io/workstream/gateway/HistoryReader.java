package io.workstream.gateway;

import io.vertx.core.Future;
import io.workstream.bus.proto.History;

/** Reads a project's retained change events for a subscription catching up. */
@FunctionalInterface
interface HistoryReader {

  /** The retained events after {@code afterSeq}, at most {@code limit}. */
  Future<History> read(String projectId, long afterSeq, int limit);
}
