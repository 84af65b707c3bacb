package io.workstream.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One gateway instance's subscriptions per (tenant, project): a change event goes straight to each subscription of
 * its project, with no lookup per connection. Confined to the instance's event loop.
 */
final class SubscriptionIndex {

  record ProjectKey(String tenantId, String projectId) {
  }

  private final Map<ProjectKey, List<ProjectSubscription>> subscriptions = new HashMap<>();

  /** Adds a subscription; true when it is the instance's first one of the project (the instance must follow it). */
  boolean add(String tenantId, String projectId, ProjectSubscription subscription) {
    List<ProjectSubscription> list =
      subscriptions.computeIfAbsent(new ProjectKey(tenantId, projectId), k -> new ArrayList<>());
    list.add(subscription);
    return list.size() == 1;
  }

  /** A connection subscribed again to a project: its new subscription takes the old one's place. */
  void replace(String tenantId, String projectId, ProjectSubscription old, ProjectSubscription replacement) {
    List<ProjectSubscription> list = subscriptions.get(new ProjectKey(tenantId, projectId));
    int at = list == null ? -1 : list.indexOf(old);
    if (at < 0) {
      add(tenantId, projectId, replacement);
    } else {
      list.set(at, replacement);
    }
  }

  /** Removes a subscription; true when it was the instance's last one of the project (the instance can unfollow). */
  boolean remove(String tenantId, String projectId, ProjectSubscription subscription) {
    ProjectKey key = new ProjectKey(tenantId, projectId);
    List<ProjectSubscription> list = subscriptions.get(key);
    if (list == null || !list.remove(subscription)) {
      return false;
    }
    if (list.isEmpty()) {
      subscriptions.remove(key);
      return true;
    }
    return false;
  }

  List<ProjectSubscription> subscriptions(String tenantId, String projectId) {
    return subscriptions.getOrDefault(new ProjectKey(tenantId, projectId), Collections.emptyList());
  }

  /** Every (tenant, project) followed, for unfollowing them all when the instance stops. */
  Set<ProjectKey> projects() {
    return Set.copyOf(subscriptions.keySet());
  }
}
