package io.workstream.bus;

import java.util.List;

/**
 * The broadcast's answer to {@link FollowProject}: the project's current seq, whether the history reached back to
 * the requested seq, and the replayed events (encoded frames, oldest first).
 */
public record FollowResult(long currentSeq, boolean recovered, List<ProjectFrame> replay) {
}
