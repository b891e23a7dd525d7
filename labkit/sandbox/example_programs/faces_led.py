# 看到人脸就亮灯：小盒子的摄像头看到人脸时 LED 亮。
# Faces → LED: the LED is on while the kit's camera sees a face.
from time import sleep

from gpiozero import LED

from labkit.program import Camera

led = LED(17)
camera = Camera("kit")            # 小盒子自己的摄像头 / the kit's own camera

for _ in range(100):
    faces = camera.faces()        # 现在看到的人脸 / the faces in view now
    if faces:
        led.on()
        print(len(faces), "face(s) / 张人脸")
    else:
        led.off()
    sleep(0.2)
