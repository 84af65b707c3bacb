package io.workstream.bus;

/**
 * Node-local request from a gateway instance to the broadcast: deliver {@code (tenantId, projectId)} events to
 * {@code gatewayAddress} (when {@code follow} is set: the instance's first subscriber of that project) and, when
 * {@code afterSeq >= 0}, return the retained events after it.
 */
public record FollowProject(String tenantId, String projectId, String gatewayAddress, boolean follow,
                            long afterSeq, String correlationId) {

  public static final long NO_REPLAY = -1;
}
