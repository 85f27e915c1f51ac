"""E-mail on the console for local runs (no EMAIL_HOST): the headers and the text, and the names of
the attachments rather than pages of base64."""

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class ConsoleBackend(DjangoConsoleBackend):
    def write_message(self, message) -> None:
        attachments = [a[0] if isinstance(a, tuple) else a.get_filename() for a in message.attachments]
        lines = [f"From: {message.from_email}", f"To: {', '.join(message.to)}", f"Subject: {message.subject}", "",
                 message.body.rstrip()]
        if attachments:
            lines.append(f"[attached: {', '.join(str(a) for a in attachments)}]")
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
