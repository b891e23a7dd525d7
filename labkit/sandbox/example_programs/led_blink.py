# 闪烁的灯：让小盒子的 LED 亮三秒，再闪五下。
# Blink: the kit's LED stays on for three seconds, then blinks five times.
from time import sleep

from gpiozero import LED

led = LED(17)          # 17 号引脚上的 LED / the LED on pin 17
led.on()
print("LED on / 灯亮了")
sleep(3)
for _ in range(5):
    led.toggle()       # 亮变灭、灭变亮 / on becomes off, off becomes on
    sleep(0.3)
led.off()
print("done / 完成")
