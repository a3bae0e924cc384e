"""The tutor service: what happens to a student's question, end to end.

    HTTP -> deployments/api.py -> TutorService.ask (tutor_service.py: session, window, plan)
         -> TutorRouter.answer (router.py: classify, cache lookup, retrieve, generate)
         -> answer events (models/events.py) -> back through the service (session turns,
            request log, metrics) -> HTTP (JSON or server-sent events)

Plain Python: the ingress deployment holds a `TutorService`, the router deployment a
`TutorRouter`; `graphs/single_process.py` holds both in one process.
"""
