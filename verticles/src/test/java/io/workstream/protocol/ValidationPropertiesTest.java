package io.workstream.protocol;

import io.workstream.bus.ErrorCode;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.FieldChange;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.testing.RandomMessages;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

/** The validation rules and the change computation hold for all inputs. */
class ValidationPropertiesTest {

  static final RequestContext CTX = new RequestContext("c", "m", "t", "editor", Set.of("member"));

  @Test
  void aTitleIsAcceptedExactlyWhenItHasOneTo500PrintableCharacters() {
    qt().withExamples(3_000).forAll(longs().all().map(seed -> {
      Random random = new Random(seed);
      String text = RandomMessages.text(random);
      return random.nextInt(10) == 0 ? text.repeat(1 + random.nextInt(30)) : text;
    })).checkAssert(title -> {
      int length = title.codePointCount(0, title.length());
      boolean expected = length >= 1 && length <= 500 && title.chars().noneMatch(Character::isISOControl);
      assertEquals(expected, accepts(() -> Validation.title(title)), () -> "title " + title);
    });
  }

  @Test
  void idsAreAcceptedOnlyAsUuidsAndComeOutCanonical() {
    qt().withExamples(2_000).forAll(strings().ascii().ofLengthBetween(0, 40)
      .mix(longs().all().map(seed -> mixedCase(new UUID(seed, ~seed).toString(), seed)))).checkAssert(raw -> {
      boolean isUuid = raw.matches("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");
      assertEquals(isUuid, accepts(() -> Validation.uuid("project_id", raw)), raw);
      if (isUuid) {
        String canonical = Validation.uuid("project_id", raw);
        assertEquals(UUID.fromString(raw).toString(), canonical);
        assertEquals(canonical, Validation.uuid("project_id", canonical));
      }
    });
  }

  @Test
  void theChangeListNamesExactlyTheFieldsThatDiffer() {
    qt().withExamples(2_000).forAll(longs().all(), longs().all()).checkAssert((itemSeed, updateSeed) -> {
      WorkItem current = RandomMessages.random(WorkItem.getDefaultInstance(), itemSeed).toBuilder().setVersion(3).build();
      UpdateWorkItem update = RandomMessages.random(UpdateWorkItem.getDefaultInstance(), updateSeed).toBuilder()
        .clearSprintId().clearParentId().build();
      WorkItems.Updated updated = WorkItems.update(CTX, update, current, 1_000);
      List<FieldChange> changes = updated.changes();
      assertEquals(changes, WorkItems.changes(current, updated.item()));
      if (changes.isEmpty()) {
        assertEquals(current, updated.item(), "no change, no new version");
      } else {
        assertEquals(4, updated.item().getVersion());
        assertEquals("editor", updated.item().getUpdatedBy());
        assertEquals(WorkItems.changes(current, updated.item()), changes);
        assertTrue(changes.stream().noneMatch(c -> c.getOldValue().equals(c.getNewValue())));
      }
      // Fields not named by the request never change.
      WorkItem.Builder untouched = updated.item().toBuilder()
        .setVersion(current.getVersion()).setUpdatedAtMs(current.getUpdatedAtMs()).setUpdatedBy(current.getUpdatedBy());
      if (update.hasTitle()) untouched.setTitle(current.getTitle());
      if (update.hasDescription()) untouched.setDescription(current.getDescription());
      if (update.hasStatus()) untouched.setStatus(current.getStatus());
      if (update.hasPriority()) untouched.setPriority(current.getPriority());
      if (update.hasAssigneeId()) untouched.setAssigneeId(current.getAssigneeId());
      if (update.hasStoryPoints() || update.getClearStoryPoints()) {
        if (current.hasStoryPoints()) untouched.setStoryPoints(current.getStoryPoints()); else untouched.clearStoryPoints();
      }
      if (update.hasPosition()) untouched.setPosition(current.getPosition());
      assertEquals(current, untouched.build());
    });
  }

  private static boolean accepts(Runnable validation) {
    try {
      validation.run();
      return true;
    } catch (WorkstreamException e) {
      assertEquals(ErrorCode.VALIDATION_ERROR, e.code());
      return false;
    }
  }

  private static String mixedCase(String uuid, long seed) {
    Random random = new Random(seed);
    StringBuilder out = new StringBuilder();
    for (char c : uuid.toCharArray()) {
      out.append(random.nextBoolean() ? Character.toUpperCase(c) : c);
    }
    return out.toString();
  }
}
