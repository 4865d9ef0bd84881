"""Class mode: a room for a class. The teacher opens it here (in presenter mode it sits beside the pages); students
open the join link (``/room?room=CODE``) on their phones and see only the room. Thin page: the views are in
lab_pages/room_page.py, the rules in resnet_core.serving.rooms, the lesson in resnet_core.serving.lesson."""

from lab_pages.room_page import show_room

show_room()
