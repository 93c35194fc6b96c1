import { describe, expect, it } from "vitest";
import type { EventType, NotificationCategory } from "../../web/src/types.js";
import {
  badgeText,
  bellLabel,
  eventsSummary,
  examplePayload,
  groupEventTypes,
  lockReason,
  webhookHost,
} from "../../web/src/webhooks.js";

const type = (name: string): EventType => ({
  type: name,
  description: `${name} happened`,
  example: { id: 1 },
});

describe("the webhook pages' helpers", () => {
  it("groups event types by their prefix, in the catalog's order", () => {
    const groups = groupEventTypes([type("member.invited"), type("team.created"), type("member.removed")]);
    expect(groups.map(([prefix, types]) => [prefix, types.map((t) => t.type)])).toEqual([
      ["member", ["member.invited", "member.removed"]],
      ["team", ["team.created"]],
    ]);
  });

  it("says what an endpoint listens to in a word", () => {
    expect(eventsSummary(["*"])).toBe("All events");
    expect(eventsSummary(["member.invited"])).toBe("1 event");
    expect(eventsSummary(["member.invited", "team.created"])).toBe("2 events");
  });

  it("shows an example payload as a receiver gets it", () => {
    expect(JSON.parse(examplePayload(type("member.invited")))).toEqual({
      type: "member.invited",
      timestamp: "2025-01-01T12:00:00Z",
      data: { id: 1 },
    });
  });

  it("names an endpoint by its host", () => {
    expect(webhookHost("https://hooks.example.com/in?x=1")).toBe("hooks.example.com");
    expect(webhookHost("not a url")).toBe("not a url");
  });
});

describe("the notification settings' and bell's helpers", () => {
  const security: NotificationCategory = {
    key: "security",
    channels: { email: true, in_app: true, sms: false },
    locked: ["email"],
  };

  it("explains a locked cell, and SMS without a verified mobile", () => {
    expect(lockReason(security, "email", true)).toBe("Security email can't be turned off");
    expect(lockReason(security, "in_app", true)).toBeNull();
    expect(lockReason(security, "sms", false)).toBe("Verify your mobile number to get SMS alerts");
    expect(lockReason(security, "sms", true)).toBeNull();
  });

  it("names the bell by its unread count", () => {
    expect(bellLabel(3)).toBe("Notifications, 3 unread");
    expect(bellLabel(0)).toBe("Notifications, none unread");
    expect(badgeText(7)).toBe("7");
    expect(badgeText(120)).toBe("99+");
  });
});
