"""Every action the audit trail records, with the sentence a person reads for it.

One registry, so that the services that write events, the audit page that shows them and its
filter agree: :func:`beffroi.audit.services.record` refuses an action that is not listed here,
and the page shows each event's sentence in the reader's language. The value is what is
stored (``AuditEvent.action``); it never changes once events carry it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # organizations and people
    ORGANIZATION_CREATE = "organization.create", _("Created the organization")
    ORGANIZATION_UPDATE = "organization.update", _("Changed the organization's settings")
    USER_CREATE = "user.create", _("Created an account")
    USER_PASSWORD_CHANGE = "user.password_change", _("Changed their password")
    USER_TWO_FACTOR_ENABLE = "user.two_factor.enable", _("Turned on two-factor authentication")
    MEMBERSHIP_CREATE = "membership.create", _("Added a member")
    MEMBERSHIP_UPDATE = "membership.update", _("Changed a member's role")
    MEMBERSHIP_DELETE = "membership.delete", _("Removed a member")
    INVITATION_CREATE = "invitation.create", _("Invited someone")
    INVITATION_ACCEPT = "invitation.accept", _("Accepted an invitation")
    INVITATION_DECLINE = "invitation.decline", _("Declined an invitation")
    INVITATION_REVOKE = "invitation.revoke", _("Withdrew an invitation")
    INVITATION_EXPIRE = "invitation.expire", _("An invitation expired")
    API_TOKEN_CREATE = "api_token.create", _("Created an API token")
    API_TOKEN_REVOKE = "api_token.revoke", _("Revoked an API token")
    # sources
    SOURCE_CREATE = "source.create", _("Added a source")
    SOURCE_UPDATE = "source.update", _("Changed a source")
    SOURCE_SYNC_REQUEST = "source.sync_request", _("Asked for a source to be fetched")
    SOURCE_IMPORT = "source.import", _("Imported a file into a source")
    SOURCE_OAUTH_START = "source.oauth_start", _("Started connecting an account")
    SOURCE_CREDENTIALS_REFRESHED = (
        "source.credentials_refreshed",
        _("Renewed a source's access token"),
    )
    # the charter
    CHARTER_CREATE_DEFAULT = "charter.create_default", _("Created the default charter")
    CHARTER_DRAFT = "charter.draft", _("Started a charter draft")
    CHARTER_IMPORT = "charter.import", _("Imported a charter")
    CHARTER_VERSION_UPDATE = "charter.version_update", _("Changed a charter draft")
    CHARTER_PUBLISH = "charter.publish", _("Published a charter version")
    CHARTER_SHADOW = "charter.shadow", _("Put a charter version in shadow mode")
    CHARTER_RETIRE = "charter.retire", _("Retired a charter version")
    CHARTER_DISCARD = "charter.discard", _("Discarded a charter draft")
    CHARTER_CATEGORY_CREATE = "charter.category_create", _("Added a charter category")
    CHARTER_CATEGORY_UPDATE = "charter.category_update", _("Changed a charter category")
    CHARTER_CATEGORY_DELETE = "charter.category_delete", _("Removed a charter category")
    CHARTER_RULE_CREATE = "charter.rule_create", _("Added a charter rule")
    CHARTER_RULE_BULK_CREATE = "charter.rule_bulk_create", _("Added charter rules in bulk")
    CHARTER_RULE_UPDATE = "charter.rule_update", _("Changed a charter rule")
    CHARTER_RULE_DELETE = "charter.rule_delete", _("Removed a charter rule")
    # moderation: one action per decision kind, by a person or automatically (system actor)
    MODERATION_KEEP = "moderation.keep", _("Kept an item")
    MODERATION_HIDE = "moderation.hide", _("Hid an item")
    MODERATION_DELETE = "moderation.delete", _("Deleted an item")
    MODERATION_QUEUE = "moderation.queue", _("Sent an item to review")
    MODERATION_REPLY = "moderation.reply", _("Replied to an item")
    MODERATION_REPORT = "moderation.report", _("Reported an item to the platform")
    MODERATION_ESCALATE = "moderation.escalate", _("Escalated an item")
    MODERATION_CASE_TAKEN_OVER = (
        "moderation.case.taken_over",
        _("Took over a case another person held"),
    )
    MODERATION_UNHIDE = "moderation.unhide", _("Restored an item")
    MODERATION_UNDO = "moderation.undo", _("Undid a decision")
    MODERATION_APPEAL_FILED = "moderation.appeal.filed", _("Recorded an appeal")
    MODERATION_APPEAL_DECIDED = "moderation.appeal.decided", _("Decided an appeal")
    MODERATION_DOSSIER_EXPORTED = "moderation.dossier.exported", _("Exported an evidence dossier")
    MODERATION_CLASSIFIER_RETRAIN_REQUESTED = (
        "moderation.classifier.retrain_requested",
        _("Asked for the classifier to be retrained"),
    )
    MODERATION_CLASSIFIER_TRAINED = "moderation.classifier.trained", _("Trained a classifier")
    MODERATION_CLASSIFIER_ACTIVATED = (
        "moderation.classifier.activated",
        _("Put a classifier in service"),
    )
    MODERATION_STATEMENTS_EXPORTED = (
        "moderation.statements.exported",
        _("Exported statements of reasons"),
    )
    # what the platform did with a decision (always the system actor)
    PLATFORM_DONE = "platform.done", _("The platform carried out the action")
    PLATFORM_FAILED = "platform.failed", _("The platform refused the action")
    PLATFORM_UNSUPPORTED = "platform.unsupported", _("The platform does not allow the action")
    PLATFORM_RETRY = "platform.retry", _("The platform asked to try again later")
    PLATFORM_SIMULATED = (
        "platform.simulated",
        _("The action was simulated on a demo source (nothing was sent to a platform)"),
    )
    PLATFORM_RETRY_REQUESTED = (
        "platform.retry_requested",
        _("Asked the platform again to carry out a refused action"),
    )
    # veille
    WATCH_SAVE = "watch.save", _("Saved a watch")
    WATCH_DELETE = "watch.delete", _("Deleted a watch")
    ALERT_ACKNOWLEDGE = "alert.acknowledge", _("Acknowledged an alert")
    ALERT_CHANNEL_SAVE = "alert_channel.save", _("Saved an alert channel")
    ALERT_CHANNEL_DELETE = "alert_channel.delete", _("Deleted an alert channel")
    CLAIM_SAVE = "claim.save", _("Saved a checked claim")
    CLAIM_DELETE = "claim.delete", _("Deleted a checked claim")
    CLAIMS_IMPORT = "claims.import", _("Imported fact-checks")
    NARRATIVE_RENAME = "narrative.rename", _("Renamed a narrative")
    NARRATIVE_MERGE = "narrative.merge", _("Merged narratives")
    NARRATIVE_SPLIT = "narrative.split", _("Split a narrative")
    CAMPAIGN_UPDATE = "campaign.update", _("Reviewed a campaign")
    PROTECTED_IDENTITY_SAVE = "protected_identity.save", _("Saved a protected identity")
    PROTECTED_IDENTITY_DELETE = "protected_identity.delete", _("Deleted a protected identity")
    IMPERSONATION_DECIDE = "impersonation.decide", _("Reviewed a look-alike account")
    # the answering desk: conversations, replies, teams, saved replies
    CONVERSATION_ASSIGN = "conversation.assign", _("Assigned a conversation")
    CONVERSATION_STATE = "conversation.state", _("Changed a conversation's state")
    CONVERSATION_TEAM = "conversation.team", _("Gave a conversation to a team")
    CONVERSATION_LABELS = "conversation.labels", _("Labelled a conversation")
    CONVERSATION_SNOOZE = "conversation.snooze", _("Snoozed a conversation")
    CONVERSATION_NOTE = "conversation.note", _("Wrote an internal note")
    CONVERSATION_REQUEST = (
        "conversation.request",
        _("Said whether a conversation is a request"),
    )
    REPLY_SEND = "reply.send", _("Sent a reply to a citizen")
    REPLY_RETRY = "reply.retry", _("Sent a reply again")
    REPLY_CONFIRM = "reply.confirm", _("Confirmed that a reply was posted")
    REPLY_SENT = "reply.sent", _("The platform posted the reply")
    REPLY_FAILED = "reply.failed", _("The platform refused the reply")
    REPLY_UNKNOWN = "reply.unknown", _("A reply's sending was interrupted (outcome unknown)")
    REPLY_SIMULATED = (
        "reply.simulated",
        _("The reply was simulated on a demo source (nothing was sent to a platform)"),
    )
    HANDOFF_REQUEST = "handoff.request", _("Handed a request off to the request system")
    HANDOFF_RETRY = "handoff.retry", _("Sent a hand-off again")
    HANDOFF_SENT = "handoff.sent", _("The request system received the request")
    HANDOFF_FAILED = "handoff.failed", _("The request system did not take the request")
    HANDOFF_DONE = "handoff.done", _("The service closed the request in its system")
    REQUEST_SYSTEM_SAVE = "request_system.save", _("Saved a request system")
    REQUEST_SYSTEM_DISABLE = "request_system.disable", _("Switched off a request system")
    REQUEST_MODEL_RETRAIN = "request_model.retrain", _("Asked for the request models to learn")
    REQUEST_MODEL_ACTIVATE = (
        "request_model.activate",
        _("Put a retrained request model in force"),
    )
    ROUTING_RULE_SAVE = "routing_rule.save", _("Saved a routing rule")
    ROUTING_RULE_DELETE = "routing_rule.delete", _("Deleted a routing rule")
    TEAM_SAVE = "team.save", _("Saved a team")
    SAVED_REPLY_SAVE = "saved_reply.save", _("Saved a saved reply")
    SAVED_REPLY_DELETE = "saved_reply.delete", _("Deleted a saved reply")
    # the publishing desk
    POST_CREATE = "post.create", _("Wrote a post")
    POST_EDIT = "post.edit", _("Changed a post")
    POST_SUBMIT = "post.submit", _("Submitted a post for approval")
    POST_APPROVE = "post.approve", _("Approved a post")
    POST_REJECT = "post.reject", _("Sent a post back to its author")
    POST_BACK_TO_REVIEW = (
        "post.back_to_review",
        _("A post changed after its approval went back to review"),
    )
    POST_SCHEDULE = "post.schedule", _("Scheduled a post")
    POST_SUSPEND = "post.suspend", _("Suspended a post")
    POST_EXPIRED = "post.expired", _("A post was not approved in time (never published)")
    POST_UNATTEMPTED = (
        "post.unattempted",
        _("A post's time passed during a pause (not published)"),
    )
    POST_PUBLISHING = "post.publishing", _("A post's time came: publishing")
    POST_PUBLISHED = "post.published", _("The platform published a post")
    POST_FAILED = "post.failed", _("The platform did not publish a post")
    POST_UNKNOWN = "post.unknown", _("A post's publication was interrupted (outcome unknown)")
    POST_SIMULATED = (
        "post.simulated",
        _("A post was simulated on a demo account (nothing was sent to a platform)"),
    )
    POST_LOOKED_UP = (
        "post.looked_up",
        _("Looked on the account for a post whose publication was interrupted"),
    )
    POST_CONFIRM = "post.confirm", _("Confirmed that a post was published")
    POST_RETRY = "post.retry", _("Sent a post again")
    POST_COMMENT = "post.comment", _("Commented on a post")
    POST_EXTERNAL_LINK = "post.external_link", _("Created an external approval link")
    MEDIA_SAVE = "media.save", _("Saved a media in the library")
    MEDIA_DELETE = "media.delete", _("Deleted a media from the library")
    WORKFLOW_SAVE = "workflow.save", _("Saved an approval workflow")
    WORKFLOW_DELETE = "workflow.delete", _("Deleted an approval workflow")
    PUBLISHING_SETTINGS = "publishing.settings", _("Changed the publishing settings")
    PUBLISHING_PAUSE = "publishing.pause", _("Paused publishing")
    PUBLISHING_RESUME = "publishing.resume", _("Resumed publishing")
    PAUSE_WINDOW_SAVE = "pause_window.save", _("Planned a period without publishing")
    PAUSE_WINDOW_DELETE = "pause_window.delete", _("Removed a period without publishing")
    # the counter-speech library
    COUNTER_SPEECH_CREATE = "counter_speech.create", _("Wrote a counter-speech entry")
    COUNTER_SPEECH_EDIT = "counter_speech.edit", _("Changed a counter-speech entry")
    COUNTER_SPEECH_SUBMIT = (
        "counter_speech.submit",
        _("Submitted a counter-speech entry for approval"),
    )
    COUNTER_SPEECH_APPROVE = "counter_speech.approve", _("Approved a counter-speech entry")
    COUNTER_SPEECH_SEND_BACK = (
        "counter_speech.send_back",
        _("Sent a counter-speech entry back to its author"),
    )
    COUNTER_SPEECH_BACK_TO_REVIEW = (
        "counter_speech.back_to_review",
        _("A counter-speech entry changed after its approval went back to review"),
    )
    COUNTER_SPEECH_RETIRE = "counter_speech.retire", _("Retired a counter-speech entry")
    COUNTER_SPEECH_IMPORT = "counter_speech.import", _("Imported counter-speech entries")
    COUNTER_SPEECH_EXPORT = "counter_speech.export", _("Exported the counter-speech library")
    COUNTER_SPEECH_SOURCE_CHANGED = (
        "counter_speech.source_changed",
        _("A source of an approved counter-speech entry changed since its approval"),
    )
    COUNTER_SPEECH_LIBRARY_PUBLISH = (
        "counter_speech.library.publish",
        _("Shared the counter-speech library with other organizations"),
    )
    COUNTER_SPEECH_LIBRARY_UNPUBLISH = (
        "counter_speech.library.unpublish",
        _("Stopped sharing the counter-speech library"),
    )
    COUNTER_SPEECH_SUBSCRIBE = (
        "counter_speech.subscribe",
        _("Subscribed to another organization's counter-speech library"),
    )
    COUNTER_SPEECH_UNSUBSCRIBE = (
        "counter_speech.unsubscribe",
        _("Unsubscribed from another organization's counter-speech library"),
    )
    COUNTER_SPEECH_DRAFT = (
        "counter_speech.draft",
        _("Asked a language model for a counter-speech draft"),
    )
    COUNTER_SPEECH_DRAFTING_SETTINGS = (
        "counter_speech.drafting_settings",
        _("Changed the counter-speech drafting settings"),
    )
    # the administration site and the demo
    ADMIN_CREATE = "admin.create", _("Created an object in the administration site")
    ADMIN_UPDATE = "admin.update", _("Changed an object in the administration site")
    ADMIN_DELETE = "admin.delete", _("Deleted an object in the administration site")
    DEMO_LOAD = "demo.load", _("Loaded the demo town")
    # response briefs for partner organizations
    BRIEF_CREATE = "brief.create", _("Prepared a response brief")
    BRIEF_EDIT = "brief.edit", _("Changed a response brief")
    BRIEF_SEND = "brief.send", _("Sent a response brief to partner organizations")
    BRIEF_RECEIVE = "brief.receive", _("Received a response brief from a partner organization")
    BRIEF_CLOSE = "brief.close", _("Closed a response brief")
    BRIEF_ACKNOWLEDGE = "brief.acknowledge", _("Acknowledged a partner's response brief")
    BRIEF_DECLINE = "brief.decline", _("Declined a partner's response brief")
    BRIEF_RESPONSE = "brief.response", _("Counted an answer to a post of a response brief")
    BRIEF_EXPORT = (
        "brief.export",
        _("Exported a signed response brief for a partner of another Beffroi"),
    )
    BRIEF_IMPORT = "brief.import", _("Imported a signed response brief")
    BRIEF_RESPONSES_EXPORT = (
        "brief.responses.export",
        _("Exported a signed report of the answers to a response brief"),
    )
    BRIEF_RESPONSES_IMPORT = (
        "brief.responses.import",
        _("Imported a partner's signed report of the answers to a response brief"),
    )
    BRIEF_FILE_REFUSED = "brief.file_refused", _("Refused a signed brief file")
    BRIEF_PARTNER_PROPOSE = (
        "brief.partner.propose",
        _("Proposed to send response briefs to another organization"),
    )
    BRIEF_PARTNER_ACCEPT = (
        "brief.partner.accept",
        _("Accepted to receive another organization's response briefs"),
    )
    BRIEF_PARTNER_END = "brief.partner.end", _("Ended a partnership for response briefs")
    BRIEF_LINK_CREATE = "brief.link.create", _("Made a link with a partner of another Beffroi")
    BRIEF_LINK_JOIN = "brief.link.join", _("Joined a link made by a partner of another Beffroi")
    BRIEF_LINK_DELETE = (
        "brief.link.delete",
        _("Deleted a link with a partner of another Beffroi"),
    )


def sentence(action: str) -> str:
    """The sentence for a stored action; an action no longer registered shows as stored."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action


def moderation_action(decision_action: str) -> AuditAction:
    """The audit action for a decision of kind ``decision_action`` (keep, hide, …)."""
    return AuditAction(f"moderation.{decision_action}")
