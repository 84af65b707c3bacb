package io.workstream.bus;

/** Node-local: the gateway instance {@code gatewayId} has no subscriber of the project left. */
public record UnfollowProject(String tenantId, String projectId, String gatewayId) {
}
