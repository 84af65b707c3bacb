package io.workstream.gateway;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.vertx.core.shareddata.Shareable;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open connections per tenant and in all, on this node, and each tenant's message rate over all its connections:
 * shared by every gateway instance (they run on different event loops). A slot is taken before the upgrade and
 * given back exactly once when the socket closes, however it closes; a tenant's rate bucket lives while it has a
 * connection here.
 */
final class ConnectionLimits implements Shareable {

  enum Refusal { NONE, TENANT, NODE }

  private record Tenant(int open, Bucket rate) {
  }

  private final ConcurrentHashMap<String, Tenant> perTenant = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  Refusal tryAcquire(String tenantId, GatewayConfig.Connections limits, GatewayConfig.RateLimit rate) {
    if (total.incrementAndGet() > limits.maxPerNode()) {
      total.decrementAndGet();
      return Refusal.NODE;
    }
    boolean[] admitted = {false};
    perTenant.compute(tenantId, (id, tenant) -> {
      if (tenant == null) {
        admitted[0] = true;
        return new Tenant(1, tenantRate(rate));
      }
      if (tenant.open() >= limits.maxPerTenant()) {
        return tenant;
      }
      admitted[0] = true;
      return new Tenant(tenant.open() + 1, tenant.rate());
    });
    if (!admitted[0]) {
      total.decrementAndGet();
      return Refusal.TENANT;
    }
    return Refusal.NONE;
  }

  /** The message rate shared by the tenant's connections; the tenant holds a slot (after {@link #tryAcquire}). */
  Bucket tenantRate(String tenantId) {
    return perTenant.get(tenantId).rate();
  }

  void release(String tenantId) {
    perTenant.computeIfPresent(tenantId, (id, tenant) ->
      tenant.open() <= 1 ? null : new Tenant(tenant.open() - 1, tenant.rate()));
    total.decrementAndGet();
  }

  private static Bucket tenantRate(GatewayConfig.RateLimit rate) {
    return Bucket.builder()
      .addLimit(Bandwidth.builder().capacity(rate.tenantBurst())
        .refillGreedy(rate.tenantMessagesPerSecond(), Duration.ofSeconds(1)).build())
      .build();
  }
}
