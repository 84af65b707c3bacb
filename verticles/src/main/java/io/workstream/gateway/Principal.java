package io.workstream.gateway;

import java.util.Set;

/** Who a connection belongs to, from its verified token. */
public record Principal(String tenantId, String userId, Set<String> roles, long expiresAtMs) {
}
