"""The one catalogue of refusals: every service error code in plain words, in the user's
language. Views call :func:`message_for`; nothing else words a refusal."""

from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from pb_vote.errors import ServiceError
from pb_vote.formatting import local_datetime, money

FALLBACK = _l("That could not be done.")


def _open_vote(v: dict) -> dict:
    """The round a refusal names, and when its voting ends, in the round's time zone."""
    round_ = v["round"]
    return {"round": round_.text_in("title", str(get_locale())),
            "end": local_datetime(round_.voting_close_at, round_.time_zone, "short")}


def _code_used(v: dict) -> str:
    if v.get("channel") == "paper":
        return gettext("This slip has already been entered.")
    return gettext("This code has already been used.")


def _code_used_other_channel(v: dict) -> str:
    if v.get("channel") == "paper":
        return gettext("This code was already used online; by this round's rule the online "
                       "ballot stands.")
    return gettext("This code has already been used.")


# code -> a lazy string, or a function of the details (and the caller's context) for
# messages with figures in them.
CATALOGUE: dict[str, object] = {
    # rounds
    "settings_frozen": _l("Voting has opened: the round's settings can no longer change."),
    "transition_not_allowed": _l("The round cannot move to that phase from where it is now."),
    "empty_ballot": _l("Voting cannot open: no proposal has been accepted to the ballot yet."),
    "changed_meanwhile": _l("Someone changed the round at the same moment. Look at it again."),
    "invalid_settings": _l("Some settings need correcting."),
    "window_already_over": lambda v: gettext(
        "The idea window of this round has already ended by its schedule. Change the "
        "schedule in the settings first.") if v.get("target") == "proposals" else gettext(
        "The voting window of this round has already ended by its schedule. Change the "
        "schedule in the settings first."),
    "unreviewed_proposals": lambda v: ngettext(
        "%(num)d proposal is still waiting for review. Review it first, or confirm that "
        "voting opens without it.",
        "%(num)d proposals are still waiting for review. Review them first, or confirm that "
        "voting opens without them.", v.get("count", 0)),
    # tables
    "main_language_locked": _l("The main language can change only while the table has no "
                               "rounds: their texts and categories are in the main "
                               "language."),
    "name_required": _l("Give the name in the main language."),
    "unknown_language": _l("Choose Finnish or Swedish as the main language."),
    "name_too_long": lambda v: gettext("Give a name of at most %(maximum)d characters.",
                                       maximum=v["maximum"]),
    "slug_invalid": lambda v: gettext(
        "Use only small letters a–z, digits and single hyphens in the short name, at most "
        "%(maximum)d characters (for example keskusta or lahti-pohjoinen).",
        maximum=v["maximum"]),
    "slug_taken": lambda v: gettext("Another table already has the short name "
                                    "“%(slug)s”.", slug=v["slug"]),
    "postal_code_invalid": lambda v: gettext(
        "“%(code)s” is not a Finnish postal code: a postal code is five digits.",
        code=v["postal_code"]),
    "postal_code_taken": lambda v: gettext(
        "The postal code %(code)s is already in the area of %(table)s. Remove it there "
        "first.", code=v["postal_code"], table=v["table"].text_in("name", str(get_locale()))),
    "postal_code_taken_meanwhile": _l("Someone gave one of these postal codes to another "
                                      "table at the same moment. Look at the areas again."),
    "eligible_out_of_range": lambda v: gettext(
        "Give the number of eligible residents as a whole number from 1 to %(maximum)s, or "
        "leave it empty.", maximum=f"{v['maximum']:,}".replace(",", "\u00a0")),
    "area_fixed_in_voting": lambda v: gettext(
        "The area cannot change while %(round)s is in voting (until %(end)s): its voters' "
        "postal codes were checked against it. Change the area after voting has closed.",
        **_open_vote(v)) if v.get("round") is not None else gettext(
        "The area cannot change while a round of the table is in voting. Change it after "
        "voting has closed."),
    "round_not_finished": lambda v: gettext(
        "The table cannot be retired while its round %(round)s is still going on. Publish "
        "its results or cancel it first.",
        round=v["round"].text_in("title", str(get_locale()))),
    "table_has_rounds": _l("A table that has had rounds cannot be deleted (their results "
                           "stay visible). Retire it instead."),
    "table_retired": _l("This table is retired: it takes no new rounds."),
    # comments
    "comments_closed": _l("Comments on this idea are closed."),
    "comment_empty": _l("Write your comment."),
    "comment_too_long": lambda v: gettext("Use at most %(max)d characters.",
                                          max=v.get("most", 0)),
    "report_reason_too_long": lambda v: gettext("Use at most %(max)d characters.",
                                                max=v.get("most", 0)),
    "not_at_table": _l("Only the members of this idea's table can do that."),
    "comment_rate_limited": lambda v: gettext(
        "You are commenting very fast. Wait a moment: at most %(num)d comments in "
        "%(minutes)d minutes, and a little time between two.", num=v.get("most", 0),
        minutes=v.get("minutes", 10)),
    "already_reported": _l("You have already reported this comment."),
    "own_comment": _l("You cannot report your own comment."),
    "comment_already_hidden": _l("The moderators have already hidden this comment."),
    # proposals
    "window_closed": _l("The time for this has ended (or not begun): the server's clock "
                        "decides."),
    "title_required": _l("Give the idea a title."),
    "cost_not_positive": _l("The cost must be more than zero."),
    "cost_above_budget": _l("The cost is more than the round's whole budget."),
    "unknown_category": _l("Choose one of the round's categories."),
    "not_author": _l("Only the author can do this."),
    "moderation_closed": _l("Proposals can be moderated only while the round collects or "
                            "reviews ideas."),
    "wrong_state": _l("This proposal's status does not allow that action."),
    "reason_required": _l("Write the reason."),
    "nothing_to_merge": _l("Choose at least one duplicate."),
    "merge_mismatch": _l("Only other proposals of the same round can be merged."),
    "acted_meanwhile": _l("Someone else acted on this proposal at the same moment, so this "
                          "was not done. Look at the proposal again."),
    "no_reviewed_cost": _l("It has no reviewed cost yet: write the reviewed cost on its "
                           "page first."),
    "already_so": _l("It already has that status."),
    "nothing_chosen": _l("Tick at least one proposal."),
    "unknown_action": _l("Choose the action."),
    "short_of_supports": lambda v: ngettext(
        "This idea did not reach %(num)d support before review. To put it on the ballot "
        "all the same, write why.",
        "This idea did not reach %(num)d supports before review. To put it on the ballot "
        "all the same, write why.", v.get("threshold", 0)),
    # supports of ideas before review
    "supports_off": _l("This round does not collect supports."),
    "supports_closed": _l("Ideas can be supported only while the round collects ideas."),
    "not_supportable": _l("This idea can no longer be supported."),
    "own_idea": _l("You cannot support your own idea."),
    "support_sign_in": _l("Sign in to support ideas."),
    "support_outside_area": lambda v: gettext(
        "Your home postal code (%(code)s) is not in this table's area, so you cannot "
        "support its ideas.", code=v.get("postal_code", "")),
    "support_no_postal_code": _l("Give your home postal code in your account first: only "
                                 "residents of the table's area can support its ideas."),
    "support_codes_only": _l("In this round only holders of voting codes vote, so ideas "
                             "cannot be supported."),
    "support_identify": _l("In this round, residents support ideas after strong "
                           "identification."),
    "support_age_unknown": _l("Your identity provider did not give your date of birth, "
                              "which this round needs."),
    "support_too_young": _l("You have not reached this round's minimum age."),
    # reviews: opinions of city departments, internal notes
    "contact_required": _l("Give the contact's name and email address."),
    "note_required": _l("Write the note."),
    "cost_negative": _l("The cost cannot be negative."),
    "opinion_link_invalid": _l("This link is not valid. Copy the whole address from the "
                               "mail, or ask the person who sent it for a new one."),
    "opinion_link_expired": _l("This link has expired, so it can no longer be used to "
                               "answer. Ask the person who sent it for a new one."),
    "opinion_not_needed": _l("This proposal is no longer under review, so no answer is "
                             "needed. Thank you all the same."),
    "opinion_answered": lambda v: gettext(
        "This question has already been answered (%(when)s). The answer cannot be changed "
        "through the link; write to the person who asked instead.",
        when=local_datetime(v["answered_at"], v.get("zone", "Europe/Helsinki"), "short")),
    # images of proposals
    "image_unreadable": _l("This file is not a picture the service accepts. Choose a JPEG, "
                           "PNG or WebP photo or picture."),
    "image_too_many_pixels": lambda v: gettext(
        "This picture has too many pixels (at most %(megapixels)d million). Choose a "
        "smaller one.", megapixels=v.get("megapixels", 0)),
    "image_alt_required": _l("Describe the image for people who cannot see it."),
    "image_alt_too_long": lambda v: gettext("Use at most %(max)d characters.",
                                            max=v.get("max", 0)),
    "image_limit": lambda v: ngettext(
        "An idea can have %(num)d image. Remove one before adding another.",
        "An idea can have %(num)d images. Remove one before adding another.",
        v.get("max", 0)),
    "image_window_closed": _l("The images of this idea can no longer be changed."),
    "image_already_removed": _l("This image was already removed."),
    "not_allowed": _l("Your account does not have permission to do this."),
    # voting and voting codes
    "closed": _l("Voting is not open: the server's clock decides."),
    "code_used": _code_used,
    "code_used_other_channel": _code_used_other_channel,
    "code_count": _l("Use a number from 1 to 5000."),
    "codes_not_used": _l("This round admits residents only: change who may vote first."),
    "round_over": _l("This round has ended."),
    "outside_area": lambda v: gettext(
        "Your home postal code (%(code)s) is not in this table's area, so you cannot vote "
        "here as a resident.", code=v.get("postal_code", "")),
    "no_paper_ballots": _l("This round takes no voting codes, so no paper ballots either."),
    "paper_code_unknown": _l("No voting code of this round matches. Check the slip."),
    "paper_code_voided": _l("This code's batch was voided, so the code no longer works. "
                            "Ask the voter to use a slip of a new batch."),
    "slip_languages": _l("Choose at least one language."),
    "batch_unknown": _l("This round has no batch of codes with that number."),
    "batch_voided": _l("This batch is already voided."),
    "not_a_paper_entry": _l("No paper ballot was entered with this code, so there is nothing "
                            "to void."),
    "person_voted": lambda v: gettext(
        "You have already voted in this round with a voting code: one person has one "
        "ballot. Change it with the same code.") if v.get("earlier") == "code" else gettext(
        "You have already voted in this round with your account: one person has one "
        "ballot. Change it there."),
    # strong identification
    "identity_provider_down": lambda v: gettext(
        "%(provider)s does not answer just now, so you are not signed in. Try again in a "
        "moment, or sign in with your password.", provider=v.get("provider", ""),
    ) if v.get("staff") else gettext(
        "%(provider)s does not answer just now, so you are not signed in. Try again in a "
        "moment, or sign in with an emailed link.", provider=v.get("provider", "")),
    "identification_expired": _l("This identification is no longer valid: it was used "
                                 "already, or started in another browser. Start again."),
    "identification_cancelled": _l("The identification was cancelled, so you are not "
                                   "signed in."),
    "identification_invalid": lambda v: gettext(
        "The answer from %(provider)s could not be verified, so you are not signed in. Try "
        "again; if it happens again, tell the city.", provider=v.get("provider", "")),
    "identity_incomplete": lambda v: gettext(
        "%(provider)s did not tell who you are, so you are not signed in.",
        provider=v.get("provider", "")),
    "staff_identified": _l("Staff accounts sign in with a password."),
    # staff sign-in through the city's own provider
    "staff_email_unverified": lambda v: gettext(
        "%(provider)s did not confirm your work email address, so you are not signed in. "
        "Sign in with your password, or ask the city's IT support to check your account.",
        provider=v.get("provider", "")),
    "staff_account_missing": lambda v: gettext(
        "There is no staff account for %(email)s, so you are not signed in and nothing was "
        "created. A city admin gives roles to work addresses; ask them to add yours.",
        email=v.get("email", "")),
    # The same words whether a code does not exist or cannot be used.
    "code_not_usable": _l("This code cannot be used for this round. Check the letters and "
                          "numbers on your slip."),
    "too_many_code_attempts": _l("Too many attempts. Wait 15 minutes and try again, or ask "
                                 "the table for help."),
    # ballots
    "empty": _l("Choose at least one proposal."),
    "too_few": lambda v: gettext("Choose at least %(minimum)d proposals (you chose "
                                 "%(count)d).", minimum=v["minimum"], count=v["count"]),
    "too_many": lambda v: gettext("Choose at most %(maximum)d proposals (you chose "
                                  "%(count)d).", maximum=v["maximum"], count=v["count"]),
    "over_budget": lambda v: gettext(
        "Your choices cost %(spent)s, more than the budget of %(budget)s.",
        spent=money(v["spent"], v.get("currency", "EUR")),
        budget=money(v["budget"], v.get("currency", "EUR"))),
    "under_minimum_spend": lambda v: gettext(
        "Your choices cost %(spent)s; choose proposals worth at least %(minimum)s.",
        spent=money(v["spent"], v.get("currency", "EUR")),
        minimum=money(v["minimum"], v.get("currency", "EUR"))),
    "too_many_points": lambda v: gettext("You gave %(total)d points; you have %(maximum)d.",
                                         total=v["total"], maximum=v["maximum"]),
    "too_many_points_each": lambda v: gettext("A proposal can get at most %(maximum)d "
                                              "points.", maximum=v["maximum"]),
    "bad_value": _l("Points are whole numbers, zero or more."),
    "not_on_ballot": _l("A choice is not on this round's ballot. Reload the page and choose "
                        "again."),
    "tampered": _l("The form was changed on its way. Reload the page and choose again."),
    # results
    "not_closed": _l("Results can be published only after voting has closed."),
    "already_published": _l("The results are already published. To change them, publish a "
                            "correction with its reason."),
    "published_meanwhile": _l("Someone else published a correction at the same moment, so "
                              "this one was not published. Look at the results again."),
    "no_ballots": _l("There is nothing to count: no ballots were cast."),
    "no_proposals": _l("There is nothing to count: no proposal was on the ballot."),
    "count_not_ready": _l("This count is not the latest finished one. Look at the results "
                          "page again and publish the count it shows."),
    "count_outdated": _l("The ballots or the excluded proposals have changed since this "
                         "count, so it was not published. Count again, check the new "
                         "count and publish that."),
    "ballots_changing": _l("The ballots kept changing while they were counted. Count "
                           "again."),
    "worker_lost": _l("The count stopped several times before it finished. Ask the "
                      "service's operators to look at the task workers, then count again."),
    # accounts
    "moving_out_during_vote": lambda v: gettext(
        "You have voted in %(round)s, which is open until %(end)s. Your home postal code can "
        "move out of its area once voting has closed.", **_open_vote(v)),
    "deleting_during_vote": lambda v: gettext(
        "You have voted in %(round)s, which is open until %(end)s. You can delete your "
        "account once voting has closed; until then you can still change your vote.",
        **_open_vote(v)),
    # the service's own pages
    "page_text_empty": _l("Write the page's text, or go back to the built-in text below."),
    "page_text_too_long": lambda v: gettext(
        "The text is too long: at most %(max)d characters.", max=v["limit"]),
    "page_text_unchanged": _l("The text is the same as the one the page shows now: nothing "
                              "to save."),
    "page_already_built_in": _l("The page already shows its built-in text."),
    # one-time links
    "link_expired": lambda v: gettext("This link has expired. Links work for %(minutes)d "
                                      "minutes.", minutes=v["minutes"]),
    "link_used": _l("This link has already been used. Each link works only once."),
    "link_invalid": _l("This link is not valid. Copy the whole address from the mail."),
}

# The problems ``rounds.check_settings`` finds, shown beside the field they concern.
SETTING_PROBLEMS = {
    "required": _l("This is required."),
    "not_positive": _l("The budget must be more than zero."),
    "in_past": _l("This time is already past."),
    "ends_before_start": _l("The window must end after it starts."),
    "voting_before_proposals_end": _l("Voting can start only after the proposal window ends."),
    "approval_limits": _l("The minimum must be at least 1 and not more than the maximum."),
    "points_limits": _l("Points per proposal must be between 1 and the total."),
    "percent_range": _l("A percentage is between 0 and 100."),
    "too_many": _l("Use at most 20 categories."),
    "supports_need_residents": _l("Supports need residents: in a round where only holders "
                                  "of voting codes vote, nobody could support ideas."),
    "threshold_not_positive": _l("The number of supports must be at least 1."),
    "supports_fixed": _l("Supports can no longer change: review has started."),
}


def message_for(error: ServiceError, **context) -> str:
    """The plain words for a refusal; ``context`` adds what the caller knows and the
    service does not (the round's currency, a link's lifetime)."""
    entry = CATALOGUE.get(error.code, FALLBACK)
    if callable(entry):
        return entry({**error.details, **context})
    return str(entry)


def setting_problem(code: str) -> str:
    """The words for one problem with a round's settings."""
    return str(SETTING_PROBLEMS.get(code, code))

