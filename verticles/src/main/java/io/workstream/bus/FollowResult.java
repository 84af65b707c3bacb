package io.workstream.bus;

import java.util.Map;

/**
 * The broadcast's answer to {@link FollowProject}: per project, the last seq it has delivered, so the subscriber
 * continues with the next one.
 */
public record FollowResult(Map<String, Long> currentSeqs) {
}
