package io.workstream.bus;

/** Node-local: the gateway instance at {@code gatewayAddress} has no subscriber of the project left. */
public record UnfollowProject(String tenantId, String projectId, String gatewayAddress) {
}
