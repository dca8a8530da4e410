"""notification-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .delivery import MailSettings


@dataclass(frozen=True)
class Deps(AppDeps):
    feeds: dict  # source -> library_common.feeds.FeedClient
    accounts: object  # neighbours.Accounts: whom to greet, where to write, the links a mail carries
    transport: object  # delivery.SmtpTransport or SesTransport
    mail: MailSettings


deps = Deps.current
