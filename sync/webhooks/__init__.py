"""Webhooks: authenticate the sender, record the delivery, de-duplicate, enqueue a job.

``senders.py`` knows each sender's authentication and payload; ``services.py`` records and
processes deliveries; ``views.py`` are the three public endpoints; ``install.py`` registers our
endpoints with the senders. The work happens in ``sync.jobs_triggers.process_delivery``: the
endpoints answer within the senders' limits (Procore 5 s, Intuit 3 s) by only recording.
"""
