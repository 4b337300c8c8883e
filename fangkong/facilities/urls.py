from django.urls import path

from fangkong.facilities import views

app_name = "facilities"
urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.edit, name="new"),
    path("import/", views.import_upload, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<int:batch_id>/", views.import_result, name="import_result"),
    path("import/<int:batch_id>/report/", views.import_report, name="import_report"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/beds/", views.close_beds, name="close_beds"),
    path("<int:pk>/slots/", views.slot_new, name="slot_new"),
    path("appointments/book/<int:case_pk>/", views.appointment_book, name="appointment_book"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("stays/<int:pk>/admit/", views.admit, name="admit"),
    path("stays/<int:pk>/discharge/", views.discharge, name="discharge"),
    path("placement/", views.backlog, name="backlog"),
    path("placement/run/", views.run_engine, name="run_engine"),
    path("placement/runs/<int:pk>/", views.run_detail, name="run"),
    path("placement/runs/<int:pk>/proposals/<int:proposal_pk>/", views.run_adjust, name="run_adjust"),
    path("placement/runs/<int:pk>/confirm/", views.run_confirm, name="run_confirm"),
    path("placement/runs/<int:pk>/discard/", views.run_discard, name="run_discard"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<int:pk>/step/", views.transfer_step, name="transfer_step"),
]
