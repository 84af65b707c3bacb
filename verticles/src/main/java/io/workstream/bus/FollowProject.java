package io.workstream.bus;

/**
 * Node-local request from a gateway instance to the broadcast: deliver {@code (tenantId, projectId)} events to the
 * gateway instance {@code gatewayId} (when {@code follow} is set: the instance's first subscriber of that project).
 * The answer is a {@link FollowResult}.
 */
public record FollowProject(String tenantId, String projectId, String gatewayId, boolean follow) {
}
