package io.workstream.bus;

import java.util.List;
import java.util.Set;

/**
 * Node-local request from a gateway instance to the broadcast: deliver the events of {@code projectIds} of
 * {@code tenantId} to the gateway instance {@code gatewayId} — those in {@code follow} are the instance's first
 * subscriber of that project — and say where each live stream stands. One request for all the projects of a
 * Subscribe, so the streams the node did not follow yet start with one current-seq read between them. The answer is
 * a {@link FollowResult}.
 */
public record FollowProject(String tenantId, List<String> projectIds, Set<String> follow, String gatewayId) {
}
