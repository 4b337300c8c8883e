from django.urls import path

from fangkong.tracing import views

app_name = "tracing"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.area, name="area"),
    path("areas/<str:code>/chains/", views.area_chains, name="area_chains"),
    path("areas/<str:code>/clusters/", views.clusters, name="clusters"),
    path("areas/<str:code>/tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/open/", views.open_investigation, name="open"),
    path("cases/<int:pk>/chain/", views.case_chain, name="chain"),
    path("cases/<int:pk>/links/", views.add_link, name="add_link"),
    path("investigations/<int:pk>/edit/", views.edit_investigation, name="edit"),
    path("investigations/<int:pk>/contacts/new/", views.new_contact, name="new_contact"),
    path("contacts/<int:pk>/", views.contact, name="contact"),
    path("contacts/<int:pk>/<str:action>/", views.contact_action, name="contact_action"),
]
