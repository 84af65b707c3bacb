package io.workstream.bus;

/**
 * The broadcast's answer to {@link FollowProject}: the last seq of the project it has delivered, so the subscriber
 * continues with the next one.
 */
public record FollowResult(long currentSeq) {
}
