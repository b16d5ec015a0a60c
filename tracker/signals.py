"""The signals by which an earlier feature lets later ones react, without importing them.

See docs/ARCHITECTURE.md for the layers.

A feature low in the layers sends; a feature above it connects a receiver in its own code. blinker calls the
receivers at once, in the sender's thread and inside the sender's transaction, before anything is committed:
a receiver that raises makes the sender fail, and nothing of either is saved. Receivers are connected when
their module is imported, which `create_app` does for every feature.
"""

from blinker import Namespace

_signals = Namespace()

#: tracking -> reports: the head confirmed the sign-off of a school year, which is now "signing" (sender: the
#: school; `year`, `user`). The receiver queues the job that freezes the year's report (it completes or fails
#: the sign-off through tracking/sign_off.py) and returns a function to call once the request has committed
#: (it starts the job), or None; it raises the sender's own error if it cannot queue it.
year_signed_off = _signals.signal("year-signed-off")

#: tracking -> later features: what is still open in a year about to be signed off (sender: the school;
#: `year`, `today`). Each receiver returns a list of `tracking.sign_off.OpenLine` (or None).
year_open_work = _signals.signal("year-open-work")

#: reminders -> anchors: the daily digests were queued (sender: the app). Each receiver queues mail of its
#: own and returns how many messages it queued, so the job knows whether to wake the outbox.
digests_queued = _signals.signal("digests-queued")

#: reminders -> later features: the scheduler is being built (sender: the scheduler; `app`). Each receiver
#: adds its own jobs (fixed ids, `reminders.scheduler.JOB_DEFAULTS`), e.g. the daily retention run.
scheduler_jobs = _signals.signal("scheduler-jobs")

#: library -> frameworks, library_files: a resource page is being shown (sender: the resource). Receivers
#: return a dict of extra template values (the framework requirements that use it; its document and copies).
resource_page = _signals.signal("resource-page")

#: people -> training: a person's page, or a member's own page, is being shown (sender: the person; `school`,
#: `own`: True on the member's own page). Receivers return a dict of extra template values (training record).
person_page = _signals.signal("person-page")

#: people -> policies: the recruitment register is being built (sender: the school; `people`: the Person rows
#: shown). Receivers return {column title: {person id: cell text}}: extra columns of the page and exports.
register_columns = _signals.signal("register-columns")


def page_values(signal, sender, **kwargs) -> dict:
    """The template values every receiver of a page signal returned, merged in the order they connected."""
    values = {}
    for _receiver, returned in signal.send(sender, **kwargs):
        values.update(returned or {})
    return values


#: any feature -> the dashboard and the digest: what is waiting for one member (sender: the school; `member`:
#: their Membership, `today`: the school's date). Each receiver returns a list of `waiting.WaitingLine` (or
#: None): only lines the member can open (the line's URL must be a page their role may GET).
waiting_for = _signals.signal("waiting-for")

#: core (tracker/mail.py, for auth and schools) -> reminders: an e-mail to queue in the outbox (sender: None;
#: `mail`: a `mail.QueuedMail`). The receiver adds it to the outbox in the sender's transaction.
mail_queued = _signals.signal("mail-queued")
